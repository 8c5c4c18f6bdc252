/**
 * Optional rate limiting (RATE_LIMIT_PER_MINUTE): a fixed one-minute window per
 * client address, in process memory (each instance counts on its own), or, with
 * Redis, one window per client for the whole deployment (a RequestLimiter
 * given by the composition root: src/cache/redis-rate-limit.ts). Keyed by
 * address, not by the Authorization header: a header is the caller's to vary,
 * so a made-up token per request would otherwise get a fresh window each time
 * (unlimited login attempts). Behind a proxy every client shares the proxy's
 * address. Health and readiness probes are never limited.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { GatewayError } from '../mail/errors.ts'
import { ExpiringMap } from '../util/expiring-map.ts'

const WINDOW_MS = 60_000
const MAX_CLIENTS = 100_000
const EXEMPT = new Set(['/healthz', '/readyz'])

interface Window { start: number, count: number }

export class FixedWindowLimiter {
  readonly #limit: number
  readonly #now: () => number
  /** Full: expired windows go first, then the oldest (never everyone's). */
  readonly #windows: ExpiringMap<Window>

  constructor (limit: number, now: () => number = Date.now) {
    this.#limit = limit
    this.#now = now
    this.#windows = new ExpiringMap<Window>(MAX_CLIENTS, now)
  }

  /** Seconds until the client may retry if it were counted now, without counting; 0 when under the limit. */
  peek (key: string): number {
    const w = this.#windows.get(key)
    return w === undefined || w.count < this.#limit ? 0 : Math.max(1, Math.ceil((w.start + WINDOW_MS - this.#now()) / 1000))
  }

  /** Seconds until the client may retry, or 0 when this hit is allowed. */
  hit (key: string): number {
    const now = this.#now()
    let w = this.#windows.get(key)
    if (w === undefined) {
      w = { start: now, count: 0 }
      this.#windows.set(key, w, WINDOW_MS)
    }
    w.count++
    return w.count > this.#limit ? Math.ceil((w.start + WINDOW_MS - now) / 1000) : 0
  }
}

/** A window shared by every instance: seconds until the client may retry, or 0 when this hit is allowed. */
export interface RequestLimiter {
  hit: (key: string) => Promise<number>
}

function clientKey (request: FastifyRequest): string {
  return request.ip
}

export function registerRateLimit (app: FastifyInstance, perMinute: number, shared: RequestLimiter | null = null): void {
  const local = new FixedWindowLimiter(perMinute)
  const limiter: RequestLimiter = shared ?? { hit: async (key) => local.hit(key) }
  app.addHook('onRequest', async (request) => {
    if (EXEMPT.has(request.url.split('?')[0] ?? '')) return
    const retryAfter = await limiter.hit(clientKey(request))
    if (retryAfter > 0) throw new GatewayError('rate-limited', `More than ${perMinute} requests per minute`, { retryAfter })
  })
}
