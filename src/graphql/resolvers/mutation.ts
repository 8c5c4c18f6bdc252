/** Mutation: sessions (POST /v1/sessions, DELETE /v1/sessions/current). */
import type { CreateSessionInput } from '../../mail/service-types.ts'
import { validateSessionInput } from '../../mail/sessions.ts'
import type { CreateSessionInput as CreateSessionArgs, MutationResolvers } from '../generated.ts'

/**
 * GraphQL input (null = absent) → the service's input, refused up front by the
 * core's own rules (the same limits openapi.yaml states for REST).
 */
export function toSessionInput (args: CreateSessionArgs, ttlMax: number): CreateSessionInput {
  const { protocol, host, port, security, username, password, accessToken, ttl, smtp } = args
  const input: CreateSessionInput = { protocol, host, username }
  if (port != null) input.port = port
  if (security != null) input.security = security
  if (password != null) input.password = password
  if (accessToken != null) input.accessToken = accessToken
  if (ttl != null) input.ttl = ttl
  if (smtp != null) {
    input.smtp = { host: smtp.host }
    if (smtp.port != null) input.smtp.port = smtp.port
    if (smtp.security != null) input.smtp.security = smtp.security
    if (smtp.username != null) input.smtp.username = smtp.username
    if (smtp.password != null) input.smtp.password = smtp.password
    if (smtp.accessToken != null) input.smtp.accessToken = smtp.accessToken
  }
  validateSessionInput(input, ttlMax)
  return input
}

export const Mutation: MutationResolvers = {
  createSession: async (_root, { input }, { gateway }) =>
    gateway.service.createSession(toSessionInput(input, gateway.sessionTtlMax), { client: gateway.client }),
  revokeSession: async (_root, _args, { gateway }) => {
    await gateway.service.revokeSession(await gateway.caller())
    return true
  },
}
