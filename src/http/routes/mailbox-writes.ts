/**
 * Mailbox management and APPEND. The APPEND body (message/rfc822) is handed
 * to the service as the request stream itself: nothing here reads it, so it
 * flows to the mail server as it arrives.
 */
import { Readable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { GatewayError } from '../../mail/errors.ts'
import type { CreateMailboxInput, UpdateMailboxInput } from '../../mail/mailbox-writes.ts'
import { callerOf } from '../auth.ts'
import { operation } from '../operation.ts'
import type { HttpDeps } from '../operation.ts'

export const MESSAGE_TYPE = 'message/rfc822'

export function mailboxWriteRoutes (app: FastifyInstance, { service, doc }: HttpDeps): void {
  // the raw stream as the body: not buffered, not limited by BODY_LIMIT (APPEND_LIMIT applies)
  app.addContentTypeParser(MESSAGE_TYPE, (_request, payload, done) => { done(null, payload) })

  operation<{ Body: CreateMailboxInput }>(app, doc, 'POST', '/v1/mailboxes', async (request, reply) => {
    return reply.code(201).send(await service.createMailbox(callerOf(request), request.body))
  })

  operation<{ Params: { mailboxId: string }, Body: UpdateMailboxInput }>(app, doc, 'PATCH', '/v1/mailboxes/{mailboxId}', async (request) => {
    return await service.updateMailbox(callerOf(request), request.params.mailboxId, request.body)
  })

  operation<{ Params: { mailboxId: string }, Querystring: { force?: boolean } }>(app, doc, 'DELETE', '/v1/mailboxes/{mailboxId}', async (request, reply) => {
    await service.deleteMailbox(callerOf(request), request.params.mailboxId, { force: request.query.force === true })
    return reply.code(204).send()
  })

  operation<{ Params: { mailboxId: string }, Querystring: { keywords?: string, receivedAt?: string } }>(
    app, doc, 'POST', '/v1/mailboxes/{mailboxId}/messages', async (request, reply) => {
      // another type fastify parses itself (JSON, text) arrives parsed: not a message upload
      if (!(request.body instanceof Readable)) throw new GatewayError('bad-request', `Content-Type must be ${MESSAGE_TYPE}`)
      const length = request.headers['content-length']
      const { keywords, receivedAt } = request.query
      const placed = await service.appendMessage(callerOf(request), request.params.mailboxId, {
        body: request.body,
        size: length === undefined || !/^\d{1,15}$/.test(length) ? null : Number(length),
        keywords: keywords === undefined || keywords === '' ? [] : keywords.split(',').map(k => k.trim()),
        ...(receivedAt === undefined ? {} : { receivedAt }),
      })
      if (placed.id !== null) reply.header('location', `/v1/messages/${placed.id}`)
      return reply.code(201).send(placed)
    })
}
