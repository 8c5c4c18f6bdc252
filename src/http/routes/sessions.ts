import type { FastifyInstance } from 'fastify'
import type { CreateSessionInput } from '../../mail/service-types.ts'
import { clientKey } from '../../net/client-address.ts'
import { callerOf } from '../auth.ts'
import { operation } from '../operation.ts'
import type { HttpDeps } from '../operation.ts'

export function sessionRoutes (app: FastifyInstance, { service, doc }: HttpDeps): void {
  operation<{ Body: CreateSessionInput }>(app, doc, 'POST', '/v1/sessions', async (request, reply) => {
    const grant = await service.createSession(request.body, { client: clientKey(request.ip) })
    // The body carries a credential: no cache may keep it.
    return reply.code(201).header('cache-control', 'no-store').send(grant)
  })

  operation(app, doc, 'DELETE', '/v1/sessions/current', async (request, reply) => {
    await service.revokeSession(callerOf(request))
    return reply.code(204).send()
  })
}
