/**
 * The per-request GraphQL context: who is calling (lazily, so `createSession`
 * needs no token) and the request's message batcher.
 */
import type { FastifyRequest } from 'fastify'
import { bearerToken } from '../http/auth.ts'
import type { Caller, MailServiceApi } from '../mail/service-types.ts'
import { clientKey } from '../net/client-address.ts'
import { markAuthenticated } from './anonymous-limit.ts'
import { createMessageBatcher, type MessageBatcher } from './batcher.ts'

export interface GatewayContext {
  service: MailServiceApi
  /** The authenticated caller; throws GatewayError('unauthorized'). Memoised per request. */
  caller: () => Promise<Caller>
  /** Batched full-message reads for body fields and `message(id)`. */
  messages: MessageBatcher
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

export function buildContext (service: MailServiceApi, sessionTtlMax: number, request: FastifyRequest): { gateway: GatewayContext } {
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
  return { gateway: { service, caller: getCaller, messages, sessionTtlMax, client: clientKey(request.ip) } }
}
