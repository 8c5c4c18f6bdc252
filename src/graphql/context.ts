/**
 * The per-request GraphQL context: who is calling (lazily, so `createSession`
 * needs no token) and the request's message batcher.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { bearerToken } from '../http/auth.ts'
import type { Caller, MailServiceApi } from '../mail/service-types.ts'
import { clientKey } from '../net/client-address.ts'
import { markAuthenticated } from './anonymous-limit.ts'
import type { ByteBudget } from '../util/byte-budget.ts'
import { createMessageBatcher, type MessageBatcher } from './batcher.ts'
import { BodyAllowance } from './body-allowance.ts'

export interface GatewayContext {
  service: MailServiceApi
  /** The authenticated caller; throws GatewayError('unauthorized'). Memoised per request. */
  caller: () => Promise<Caller>
  /** Batched full-message reads for body fields and `message(id)`. */
  messages: MessageBatcher
  /** What this response carries of message bodies (body-allowance.ts). */
  bodies: BodyAllowance
  /** SESSION_TTL_MAX, to check createSession's ttl as REST does. */
  sessionTtlMax: number
  /** The caller's client address as the login throttle counts it (clientKey). */
  client: string
}

declare module 'mercurius' {
  interface MercuriusContext {
    gateway: GatewayContext
  }
}

export function buildContext (
  service: MailServiceApi, sessionTtlMax: number, budget: ByteBudget, request: FastifyRequest, reply: FastifyReply
): { gateway: GatewayContext } {
  let caller: Promise<Caller> | undefined
  const getCaller = (): Promise<Caller> => {
    caller ??= (async () => {
      const authenticated = await service.authenticate(bearerToken(request.headers.authorization))
      markAuthenticated(request)
      return authenticated
    })()
    return caller
  }
  const messages = createMessageBatcher(async ids => service.getMessages(await getCaller(), ids))
  const bodies = new BodyAllowance(budget, '')
  // sent, failed or abandoned: the response's bodies are no longer held
  reply.raw.once('close', () => bodies.release())
  return { gateway: { service, caller: getCaller, messages, bodies, sessionTtlMax, client: clientKey(request.ip) } }
}
