/**
 * Cache wiring: one CacheStore (Redis when a URL is given, else in-process),
 * the account-scoped sealed API over it, and revocations (durable: never in
 * the evictable cache), as are Idempotency-Key records.
 */
import { silentLogger } from './cache.ts'
import type { CacheLogger, CacheStatus, CacheStore } from './cache.ts'
import { MemoryStore } from './memory-store.ts'
import { watchDurability } from './redis-durability.ts'
import { RedisIdempotencyRecords } from './redis-idempotency.ts'
import { RedisLeases } from './redis-leases.ts'
import { RedisSlots } from './redis-slots.ts'
import { redisRequestLimiter, type SharedRequestLimiter } from './redis-rate-limit.ts'
import { redisSendRate } from './redis-send-rate.ts'
import { RedisRevocationList } from './redis-revocations.ts'
import { RedisStore } from './redis-store.ts'
import { RedisTicketStore } from './redis-tickets.ts'
import { createRevocations } from './revocations.ts'
import type { Revocations } from './revocations.ts'
import { createSealedCache } from './sealed.ts'
import type { SealedCache } from './sealed.ts'
import type { SharedIdempotencyRecords } from '../mail/idempotency.ts'
import { LocalLeases, type Leases } from '../mail/lease-port.ts'
import type { SendRateLimit } from '../mail/send-rate.ts'

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
  /** Read a redis:// URL as a Redis Cluster seed (REDIS_CLUSTER); redis+cluster:// needs no flag. */
  redisCluster?: boolean
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
  /** Single-use EventSource tickets every instance can redeem once; null: in-process only. */
  tickets: RedisTicketStore | null
  /** Idempotency-Key records every instance shares; null: in-process only. */
  idempotency: SharedIdempotencyRecords | null
  /** One holder per lease name in the deployment (Redis), or in this process. */
  leases: Leases
  /** Connection slots per account counted across the deployment (Redis); null: each process counts its own. */
  connectionSlots: (limitPerAccount: number) => RedisSlots | null
  /** RATE_LIMIT_PER_MINUTE counted across the deployment (Redis); null: each process counts its own. */
  requestLimiter: (perMinute: number) => SharedRequestLimiter | null
  /** SEND_RATE_PER_MINUTE counted across the deployment (Redis, fail closed); null: each process counts its own. */
  sendRate: (perMinute: number) => SendRateLimit | null
  /** For /readyz. */
  status: () => CacheStatus
  close: () => Promise<void>
}

export function createCache (opts: CacheOptions): Cache {
  const logger = opts.logger ?? silentLogger
  const redis = opts.redisUrl ? new RedisStore({ url: opts.redisUrl, cluster: opts.redisCluster === true, logger }) : null
  const store: CacheStore = redis ?? new MemoryStore({ maxBytes: opts.memoryBytes })
  if (redis !== null) watchDurability(redis.client, logger)
  const slots: RedisSlots[] = []
  const revocationList = redis === null ? null : new RedisRevocationList(redis)
  return {
    store,
    sealed: createSealedCache(store, opts.secret),
    // durable state: in Redis where eviction cannot reach it, or this process's own
    revocations: createRevocations(revocationList, opts.secret),
    idempotency: redis === null ? null : new RedisIdempotencyRecords(redis, opts.secret),
    tickets: redis === null ? null : new RedisTicketStore(redis, opts.secret),
    leases: redis === null ? new LocalLeases() : new RedisLeases(redis, opts.secret),
    connectionSlots: (limit) => {
      if (redis === null) return null
      const s = new RedisSlots(redis, opts.secret, { limit, logger })
      slots.push(s)
      return s
    },
    requestLimiter: (perMinute) => redis === null ? null : redisRequestLimiter(redis, opts.secret, perMinute),
    sendRate: (perMinute) => redis === null || perMinute === 0 ? null : redisSendRate(redis, opts.secret, perMinute),
    status: () => store.status(),
    close: async () => {
      revocationList?.close()
      await Promise.all(slots.map(async (s) => { await s.close() }))
      await store.close()
    },
  }
}
