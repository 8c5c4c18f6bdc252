import type { FastifyInstance } from 'fastify'
import { problemOf } from '../errors.ts'
import { callerOf } from '../auth.ts'
import { operation } from '../operation.ts'
import type { HttpDeps } from '../operation.ts'
import type { BatchInput } from '../../mail/service-types.ts'

interface MessageParams { Params: { messageId: string } }

export function messageWriteRoutes (app: FastifyInstance, { service, doc }: HttpDeps): void {
  // RFC 7396's media type is accepted like JSON (the body schema is the same)
  app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'))

  operation<MessageParams & { Body: { keywords: unknown } }>(app, doc, 'PATCH', '/v1/messages/{messageId}', async (request) => {
    const ifMatch = request.headers['if-match']
    return await service.updateKeywords(callerOf(request), request.params.messageId, request.body.keywords, ifMatch === undefined ? {} : { ifMatch })
  })

  operation<MessageParams & { Querystring: { permanent?: boolean } }>(app, doc, 'DELETE', '/v1/messages/{messageId}', async (request, reply) => {
    const placed = await service.deleteMessage(callerOf(request), request.params.messageId, { permanent: request.query.permanent === true })
    return placed === null ? reply.code(204).send() : placed
  })

  operation<MessageParams & { Body: { mailboxId: string } }>(app, doc, 'POST', '/v1/messages/{messageId}/move', async (request) => {
    return await service.moveMessage(callerOf(request), request.params.messageId, request.body.mailboxId)
  })

  operation<MessageParams & { Body: { mailboxId: string } }>(app, doc, 'POST', '/v1/messages/{messageId}/copy', async (request, reply) => {
    return reply.code(201).send(await service.copyMessage(callerOf(request), request.params.messageId, request.body.mailboxId))
  })

  operation<{ Body: BatchInput }>(app, doc, 'POST', '/v1/messages/batch', async (request) => {
    const results = await service.batchMessages(callerOf(request), request.body)
    return {
      results: results.map(({ error, ...r }) => error === undefined ? r : { ...r, error: problemOf(error.code, error.message, error.extra) }),
    }
  })
}
