/**
 * Cache wiring: one CacheStore (Redis when a URL is given, else in-process),
 * the account-scoped sealed API over it, and revocations.
 */
import { silentLogger } from './cache.ts'
import type { CacheLogger, CacheStatus, CacheStore } from './cache.ts'
import { MemoryStore } from './memory-store.ts'
import { RedisStore } from './redis-store.ts'
import { createRevocations } from './revocations.ts'
import type { Revocations } from './revocations.ts'
import { createSealedCache } from './sealed.ts'
import type { SealedCache } from './sealed.ts'

export type { CacheLogger, CacheStatus, CacheStore } from './cache.ts'
export type { AccountCache, SealedCache } from './sealed.ts'
export type { Revocations } from './revocations.ts'
export type { KeyPart } from './keys.ts'
export { singleFlight } from './single-flight.ts'
export type { SingleFlight } from './single-flight.ts'
export { ttlWithJitter } from './keys.ts'
export { ttlAtMost } from './sealed.ts'

export interface CacheOptions {
  /** null/undefined → in-process cache. */
  redisUrl?: string | null
  /** The gateway secret (config.secret). */
  secret: Buffer
  /** In-process cache bound in bytes (config.memoryCacheBytes). */
  memoryBytes: number
  logger?: CacheLogger
}

export interface Cache {
  store: CacheStore
  sealed: SealedCache
  revocations: Revocations
  /** For /readyz. */
  status: () => CacheStatus
  close: () => Promise<void>
}

export function createCache (opts: CacheOptions): Cache {
  const logger = opts.logger ?? silentLogger
  const store: CacheStore = opts.redisUrl
    ? new RedisStore({ url: opts.redisUrl, logger })
    : new MemoryStore({ maxBytes: opts.memoryBytes })
  return {
    store,
    sealed: createSealedCache(store, opts.secret),
    revocations: createRevocations(store, opts.secret),
    status: () => store.status(),
    close: () => store.close(),
  }
}
