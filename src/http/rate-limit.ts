/**
 * Optional rate limiting (RATE_LIMIT_PER_MINUTE): a fixed one-minute window per
 * client, in process memory (each instance counts on its own). A client is its
 * bearer token (hashed, never kept) or, without one, its address. Health and
 * readiness probes are never limited.
 */
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { GatewayError } from '../mail/errors.ts'

const WINDOW_MS = 60_000
const MAX_CLIENTS = 100_000
const EXEMPT = new Set(['/healthz', '/readyz'])

interface Window { start: number, count: number }

export class FixedWindowLimiter {
  readonly #limit: number
  readonly #now: () => number
  #windows = new Map<string, Window>()

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
    // Still full: start over rather than grow without bound.
    if (this.#windows.size >= MAX_CLIENTS) this.#windows = new Map()
  }
}

function clientKey (request: FastifyRequest): string {
  const auth = request.headers.authorization
  if (auth !== undefined && auth !== '') return 't:' + createHash('sha256').update(auth).digest('base64url').slice(0, 22)
  return 'a:' + request.ip
}

export function registerRateLimit (app: FastifyInstance, perMinute: number): void {
  const limiter = new FixedWindowLimiter(perMinute)
  app.addHook('onRequest', async (request) => {
    if (EXEMPT.has(request.url.split('?')[0] ?? '')) return
    const retryAfter = limiter.hit(clientKey(request))
    if (retryAfter > 0) throw new GatewayError('rate-limited', `More than ${perMinute} requests per minute`, { retryAfter })
  })
}
