import type { FastifyInstance } from 'fastify'
import type { MessageFilter } from '../../mail/types.ts'
import { callerOf } from '../auth.ts'
import { formatEtag, ifNoneMatchHits } from '../conditional.ts'
import { sendJson } from '../json-body.ts'
import { operation } from '../operation.ts'
import type { HttpDeps } from '../operation.ts'

/** The list query after validation against openapi.yaml (types coerced, default applied). */
export interface ListQuery {
  limit?: number
  cursor?: string
  unread?: boolean
  flagged?: boolean
  from?: string
  to?: string
  subject?: string
  text?: string
  since?: string
  before?: string
}

export function filterOf (q: ListQuery): MessageFilter {
  const filter: MessageFilter = {}
  if (q.unread !== undefined) filter.unread = q.unread
  if (q.flagged !== undefined) filter.flagged = q.flagged
  if (q.from !== undefined) filter.from = q.from
  if (q.to !== undefined) filter.to = q.to
  if (q.subject !== undefined) filter.subject = q.subject
  if (q.text !== undefined) filter.text = q.text
  // Validated as ISO date or date-time; a bare date means midnight UTC.
  if (q.since !== undefined) filter.since = new Date(q.since)
  if (q.before !== undefined) filter.before = new Date(q.before)
  return filter
}

export function messageRoutes (app: FastifyInstance, { service, doc }: HttpDeps): void {
  operation<{ Params: { mailboxId: string }, Querystring: ListQuery }>(
    app, doc, 'GET', '/v1/mailboxes/{mailboxId}/messages', async (request) => {
      const q = request.query
      const { items, nextCursor, total } = await service.listMessages(callerOf(request), request.params.mailboxId, {
        limit: q.limit ?? 50,
        ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
        filter: filterOf(q),
      })
      return { items, nextCursor, total }
    })

  operation<{ Params: { messageId: string } }>(app, doc, 'GET', '/v1/messages/{messageId}', async (request, reply) => {
    const { message, etag } = await service.getMessage(callerOf(request), request.params.messageId)
    const tag = formatEtag(etag, true)
    // Keywords are mutable: clients may keep the JSON but must revalidate.
    reply.header('etag', tag).header('cache-control', 'private, no-cache')
    if (ifNoneMatchHits(request.headers['if-none-match'], tag)) return reply.code(304).send()
    return sendJson(reply, message)
  })
}
