import type { FastifyInstance } from 'fastify'
import { parseMessageFilter, type WireFilter } from '../../mail/filter.ts'
import { callerOf } from '../auth.ts'
import { ifNoneMatchHits } from '../conditional.ts'
import { sendMessageJson } from '../json-stream.ts'
import { operation } from '../operation.ts'
import type { HttpDeps } from '../operation.ts'

/** The list query after validation against openapi.yaml (types coerced, default applied). */
interface ListQuery extends WireFilter {
  limit?: number
  cursor?: string
}

export function messageRoutes (app: FastifyInstance, { service, doc }: HttpDeps): void {
  operation<{ Params: { mailboxId: string }, Querystring: ListQuery }>(
    app, doc, 'GET', '/v1/mailboxes/{mailboxId}/messages', async (request) => {
      const { limit, cursor, ...filter } = request.query
      const { items, nextCursor, total } = await service.listMessages(callerOf(request), request.params.mailboxId, {
        ...(limit === undefined ? {} : { limit }),
        ...(cursor === undefined ? {} : { cursor }),
        filter: parseMessageFilter(filter),
      })
      return { items, nextCursor, total }
    })

  operation<{ Params: { messageId: string }, Querystring: { maxBodyBytes?: number } }>(app, doc, 'GET', '/v1/messages/{messageId}', async (request, reply) => {
    const { maxBodyBytes } = request.query
    const { message, etag } = await service.getMessage(callerOf(request), request.params.messageId, maxBodyBytes === undefined ? {} : { maxBodyBytes })
    // Keywords are mutable: clients may keep the JSON but must revalidate.
    reply.header('etag', etag).header('cache-control', 'private, no-cache')
    if (ifNoneMatchHits(request.headers['if-none-match'], etag)) return reply.code(304).send()
    return sendMessageJson(reply, message)
  })
}
