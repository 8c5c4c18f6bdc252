/**
 * Optional rate limiting (RATE_LIMIT_PER_MINUTE): a fixed one-minute window per
 * client address, in process memory (each instance counts on its own). Keyed by
 * address, not by the Authorization header: a header is the caller's to vary,
 * so a made-up token per request would otherwise get a fresh window each time
 * (unlimited login attempts). Behind a proxy every client shares the proxy's
 * address. Health and readiness probes are never limited.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { GatewayError } from '../mail/errors.ts'

const WINDOW_MS = 60_000
const MAX_CLIENTS = 100_000
const EXEMPT = new Set(['/healthz', '/readyz'])

interface Window { start: number, count: number }

export class FixedWindowLimiter {
  readonly #limit: number
  readonly #now: () => number
  readonly #windows = new Map<string, Window>()

  constructor (limit: number, now: () => number = Date.now) {
    this.#limit = limit
    this.#now = now
  }

  /** Seconds until the client may retry, or 0 when this hit is allowed. */
  hit (key: string): number {
    const now = this.#now()
    let w = this.#windows.get(key)
    if (w === undefined || now - w.start >= WINDOW_MS) {
      if (this.#windows.size >= MAX_CLIENTS) this.#sweep(now)
      w = { start: now, count: 0 }
      this.#windows.set(key, w)
    }
    w.count++
    return w.count > this.#limit ? Math.ceil((w.start + WINDOW_MS - now) / 1000) : 0
  }

  #sweep (now: number): void {
    for (const [key, w] of this.#windows) if (now - w.start >= WINDOW_MS) this.#windows.delete(key)
    // Still full: drop the oldest windows (Map order), never everyone's.
    for (const key of this.#windows.keys()) {
      if (this.#windows.size < MAX_CLIENTS) break
      this.#windows.delete(key)
    }
  }
}

function clientKey (request: FastifyRequest): string {
  return request.ip
}

export function registerRateLimit (app: FastifyInstance, perMinute: number): void {
  const limiter = new FixedWindowLimiter(perMinute)
  app.addHook('onRequest', async (request) => {
    if (EXEMPT.has(request.url.split('?')[0] ?? '')) return
    const retryAfter = limiter.hit(clientKey(request))
    if (retryAfter > 0) throw new GatewayError('rate-limited', `More than ${perMinute} requests per minute`, { retryAfter })
  })
}
