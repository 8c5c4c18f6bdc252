import type { FastifyInstance } from 'fastify'
import { callerOf } from '../auth.ts'
import { operation } from '../operation.ts'
import type { HttpDeps } from '../operation.ts'

export function accountRoutes (app: FastifyInstance, { doc }: HttpDeps): void {
  // The account is sealed in the token: authenticating the caller already produced it.
  operation(app, doc, 'GET', '/v1/account', async (request) => callerOf(request).account)
}
