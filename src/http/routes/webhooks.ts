/**
 * Webhooks (contract §9). They need Redis: without REDIS_URL every route
 * answers `422 unsupported`. A webhook keeps the token of the request that
 * created (or renewed) it, so these routes hand the bearer token itself to
 * the core, beside the caller it authenticated.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { GatewayError } from '../../mail/errors.ts'
import type { Webhooks } from '../../mail/webhooks.ts'
import type { CreateWebhookInput } from '../../mail/webhooks-types.ts'
import { bearerToken, callerOf } from '../auth.ts'
import { operation } from '../operation.ts'
import type { HttpDeps } from '../operation.ts'

type ById = { Params: { webhookId: string } }

export function webhookRoutes (app: FastifyInstance, { doc, webhooks }: HttpDeps): void {
  const api = (): Webhooks => {
    if (webhooks === null || webhooks === undefined) throw new GatewayError('unsupported', 'webhooks need Redis (REDIS_URL) on this gateway')
    return webhooks
  }
  const tokenOf = (request: FastifyRequest): string => bearerToken(request.headers.authorization)

  operation<{ Body: CreateWebhookInput }>(app, doc, 'POST', '/v1/webhooks', async (request, reply) => {
    const created = await api().create(callerOf(request), tokenOf(request), request.body)
    // the body carries the signing secret: no cache may keep it
    return reply.code(201).header('cache-control', 'no-store').header('location', `/v1/webhooks/${created.id}`).send(created)
  })

  operation(app, doc, 'GET', '/v1/webhooks', async (request) => ({ items: await api().list(callerOf(request)) }))

  operation<ById>(app, doc, 'GET', '/v1/webhooks/{webhookId}', async (request) => await api().get(callerOf(request), request.params.webhookId))

  operation<ById>(app, doc, 'DELETE', '/v1/webhooks/{webhookId}', async (request, reply) => {
    await api().remove(callerOf(request), request.params.webhookId)
    return reply.code(204).send()
  })

  operation<ById>(app, doc, 'POST', '/v1/webhooks/{webhookId}/renew', async (request) => {
    return await api().renew(callerOf(request), tokenOf(request), request.params.webhookId)
  })

  operation<ById>(app, doc, 'POST', '/v1/webhooks/{webhookId}/test', async (request, reply) => {
    return reply.code(202).send(await api().test(callerOf(request), request.params.webhookId))
  })
}
