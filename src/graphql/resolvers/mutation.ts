/** Mutation: sessions (POST /v1/sessions, DELETE /v1/sessions/current). */
import { GatewayError } from '../../mail/errors.ts'
import type { CreateSessionInput } from '../../mail/service-types.ts'
import type { CreateSessionInput as CreateSessionArgs, MutationResolvers } from '../generated.ts'

/** The checks REST's request schema makes, so both faces refuse the same input. */
export function toSessionInput (args: CreateSessionArgs, ttlMax: number): CreateSessionInput {
  const { protocol, host, port, security, username, password, accessToken, ttl } = args
  if (host.length < 1 || host.length > 255 || /[\s/?#@\\]/.test(host)) throw new GatewayError('bad-request', 'host must be a host name or IP address')
  if (username.length < 1 || username.length > 1024) throw new GatewayError('bad-request', 'username must be 1–1024 characters')
  if ((password == null) === (accessToken == null)) throw new GatewayError('bad-request', 'give exactly one of password and accessToken')
  if (password != null && (password.length < 1 || password.length > 4096)) throw new GatewayError('bad-request', 'password must be 1–4096 characters')
  if (accessToken != null && (accessToken.length < 1 || accessToken.length > 16384)) throw new GatewayError('bad-request', 'accessToken must be 1–16384 characters')
  if (port != null && (port < 1 || port > 65535)) throw new GatewayError('bad-request', 'port must be 1–65535')
  if (ttl != null && (ttl < 1 || ttl > ttlMax)) throw new GatewayError('bad-request', `ttl must be 1–${ttlMax} seconds`)
  const input: CreateSessionInput = { protocol, host, username }
  if (password != null && (password.length < 1 || password.length > 4096)) throw new GatewayError('bad-request', 'password must be 1–4096 characters')
  if (accessToken != null && (accessToken.length < 1 || accessToken.length > 16384)) throw new GatewayError('bad-request', 'accessToken must be 1–16384 characters')
  if (port != null) input.port = port
  if (security != null) input.security = security
  if (password != null) input.password = password
  if (accessToken != null) input.accessToken = accessToken
  if (ttl != null) input.ttl = ttl
  return input
}

export const Mutation: MutationResolvers = {
  createSession: async (_root, { input }, { gateway }) =>
    gateway.service.createSession(toSessionInput(input, gateway.sessionTtlMax)),
  revokeSession: async (_root, _args, { gateway }) => {
    await gateway.service.revokeSession(await gateway.caller())
    return true
  },
}
