/**
 * The one cache interface both backends implement (Redis when REDIS_URL is
 * set, an in-process byte-bounded LRU otherwise).
 *
 * Contract: get/set/del never reject. A failing backend counts as a miss
 * (get → null) or a no-op (set, del) and reports `degraded` in status(), so
 * the gateway keeps serving from upstream while the cache is away.
 */

export type CacheBackend = 'redis' | 'memory'
export type CacheHealth = 'ok' | 'degraded'

export interface CacheStatus {
  backend: CacheBackend
  status: CacheHealth
}

export interface CacheStore {
  /** The stored bytes, or null on a miss, an expired entry or a backend failure. */
  get: (key: string) => Promise<Buffer | null>
  /** Stores with a TTL (whole seconds, ≥ 1). Never rejects. */
  set: (key: string, value: Buffer, ttlSeconds: number) => Promise<void>
  /** Removes the key if present. Never rejects. */
  del: (key: string) => Promise<void>
  status: () => CacheStatus
  close: () => Promise<void>
}

/** The subset of a pino logger the cache uses. */
export interface CacheLogger {
  warn: (obj: object, msg: string) => void
  info: (obj: object, msg: string) => void
}

export const silentLogger: CacheLogger = {
  warn () {},
  info () {},
}

/**
 * A warn-level logger that says the same thing at most once per interval per
 * event name, counting what it suppressed, so an outage logs a few lines and
 * not one per request.
 */
export function rateLimitedWarn (logger: CacheLogger, intervalMs = 30_000): (event: string, err: unknown) => void {
  const last = new Map<string, { at: number, suppressed: number }>()
  return (event, err) => {
    const now = Date.now()
    const seen = last.get(event)
    if (seen !== undefined && now - seen.at < intervalMs) {
      seen.suppressed++
      return
    }
    last.set(event, { at: now, suppressed: 0 })
    logger.warn({ event, err: describeError(err), suppressed: seen?.suppressed ?? 0 }, `cache: ${event}`)
  }
}

/** Error name and message only: never the command arguments (keys, values). */
export function describeError (err: unknown): { name: string, message: string, code?: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return typeof code === 'string'
      ? { name: err.name, message: err.message, code }
      : { name: err.name, message: err.message }
  }
  return { name: 'Error', message: String(err) }
}

/** TTLs are whole seconds ≥ 1 (Redis EX rejects 0 and fractions). */
export function normaliseTtl (ttlSeconds: number): number {
  if (!Number.isFinite(ttlSeconds)) return 1
  return Math.max(1, Math.ceil(ttlSeconds))
}
