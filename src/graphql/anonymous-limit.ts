/**
 * Rate limit of GraphQL requests that do not authenticate (GRAPHQL_ANONYMOUS_PER_MINUTE,
 * per client address as the login budgets count it (an IPv6 /64), one-minute windows, in process memory): introspection
 * and createSession need no token, and each costs CPU (or a login) before
 * anything else can refuse it.
 *
 * A request is counted when it ends without a caller having been
 * authenticated. Once an address is over the limit its requests are refused
 * with 429, except those that carry a valid token (checked up front only
 * then): a made-up Authorization header buys nothing, a real session is
 * never slowed by its neighbours' anonymous traffic.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { bearerToken } from '../http/auth.ts'
import { FixedWindowLimiter } from '../http/rate-limit.ts'
import { GatewayError } from '../mail/errors.ts'
import type { MailServiceApi } from '../mail/service-types.ts'
import { clientKey } from '../net/client-address.ts'

/** Requests whose caller authenticated (set by the context's caller()). */
const authenticated = new WeakSet<FastifyRequest>()

export function markAuthenticated (request: FastifyRequest): void {
  authenticated.add(request)
}

export function limitAnonymous (scope: FastifyInstance, service: MailServiceApi, perMinute: number): void {
  const limiter = new FixedWindowLimiter(perMinute)
  // the GraphQL endpoint only: GraphiQL's page and scripts are static files
  const counted = (request: FastifyRequest): boolean => request.routeOptions.url === '/graphql'
  scope.addHook('preHandler', async (request) => {
    if (!counted(request)) return
    const retryAfter = limiter.peek(clientKey(request.ip))
    if (retryAfter === 0) return
    if (request.headers.authorization !== undefined) {
      try {
        await service.authenticate(bearerToken(request.headers.authorization))
        markAuthenticated(request)
        return
      } catch {
        // an invalid token is anonymous traffic
      }
    }
    throw new GatewayError('rate-limited', `More than ${perMinute} GraphQL requests per minute without a valid token`, { retryAfter })
  })
  scope.addHook('onResponse', async (request) => {
    if (counted(request) && !authenticated.has(request)) limiter.hit(clientKey(request.ip))
  })
}
