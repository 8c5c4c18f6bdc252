import type { FastifyInstance } from 'fastify'
import { callerOf } from '../auth.ts'
import { operation } from '../operation.ts'
import type { HttpDeps } from '../operation.ts'

export function mailboxRoutes (app: FastifyInstance, { service, doc }: HttpDeps): void {
  operation(app, doc, 'GET', '/v1/mailboxes', async (request) => {
    return { items: await service.listMailboxes(callerOf(request)) }
  })

  operation<{ Params: { mailboxId: string } }>(app, doc, 'GET', '/v1/mailboxes/{mailboxId}', async (request) => {
    return await service.getMailbox(callerOf(request), request.params.mailboxId)
  })

  operation<{ Params: { mailboxId: string }, Querystring: { since: string, limit?: number } }>(app, doc, 'GET', '/v1/mailboxes/{mailboxId}/changes', async (request) => {
    const { since, limit } = request.query
    const { keywords: _forEvents, ...changes } = await service.changes(callerOf(request), request.params.mailboxId, { since, ...(limit === undefined ? {} : { limit }) })
    return changes
  })
}
