/**
 * Bearer authentication. Which routes need it comes from openapi.yaml (each
 * operation's `security`), recorded on the route as `config.auth`; the hook
 * resolves the token through the service before anything else runs.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { GatewayError } from '../mail/errors.ts'
import type { Caller, MailServiceApi } from '../mail/service-types.ts'
import { MAX_TOKEN_CHARS } from '../mail/tokens.ts'

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null
  }
  interface FastifyContextConfig {
    /** Set from the operation's `security` in openapi.yaml. */
    auth?: boolean
  }
}

/** RFC 6750 b64token, bounded. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i
const MAX_HEADER = MAX_TOKEN_CHARS + 64

export function bearerToken (header: string | undefined): string {
  if (header === undefined || header === '') throw new GatewayError('unauthorized', 'Missing bearer token')
  const m = header.length <= MAX_HEADER ? BEARER.exec(header) : null
  if (m === null || m[1] === undefined) throw new GatewayError('unauthorized', 'Malformed Authorization header; expected "Bearer <token>"')
  return m[1]
}

export function registerAuth (app: FastifyInstance, service: MailServiceApi): void {
  app.decorateRequest('caller', null)
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.auth !== true) return
    request.caller = await service.authenticate(bearerToken(request.headers.authorization))
  })
}

/** The authenticated caller of a route that declared `config.auth`. */
export function callerOf (request: FastifyRequest): Caller {
  if (request.caller === null) throw new GatewayError('unauthorized', 'Missing bearer token')
  return request.caller
}
