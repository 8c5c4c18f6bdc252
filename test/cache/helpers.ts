/**
 * Shared fixtures for the cache tests: a private redis-server per test file
 * (from the harness, test/env/redis.ts: these tests kill and restart it), and
 * the list of store factories every suite loops over.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import { waitFor } from '../env/wait.ts'
import type { CacheLogger, CacheStore } from '../../src/cache/cache.ts'
import { MemoryStore } from '../../src/cache/memory-store.ts'
import { RedisStore } from '../../src/cache/redis-store.ts'

export { startRedis } from '../env/redis.ts'
export type { RedisEnv as TestRedis } from '../env/redis.ts'

export async function connectedRedisStore (url: string, logger?: CacheLogger): Promise<RedisStore> {
  const store = new RedisStore(logger === undefined ? { url } : { url, logger })
  await waitFor(() => store.status().status === 'ok', 5000, 'redis store ready')
  return store
}

export interface StoreFactory {
  name: 'memory' | 'redis'
  make: (opts?: { maxBytes?: number }) => Promise<CacheStore>
}

/** Every cache suite loops over these; `redisUrl` from startRedis(). */
export function storeFactories (redisUrl: () => string): StoreFactory[] {
  return [
    { name: 'memory', make: async (opts) => new MemoryStore({ maxBytes: opts?.maxBytes ?? 8 * 1024 * 1024 }) },
    { name: 'redis', make: async () => await connectedRedisStore(redisUrl()) },
  ]
}

export { waitFor }

/** Caps Redis at 4 MB under `volatile-lru` (the recommended policy); `memoryPressure` then fills it. */
export async function limitMemory (admin: Redis): Promise<void> {
  await admin.config('SET', 'maxmemory', String(4 * 1024 * 1024))
  await admin.config('SET', 'maxmemory-policy', 'volatile-lru')
}

/** Cache traffic far beyond maxmemory, every entry with a TTL as the cache writes them; asserts Redis evicted. */
export async function memoryPressure (admin: Redis, store: CacheStore): Promise<void> {
  const filler = randomBytes(16 * 1024)
  for (let i = 0; i < 1000; i++) await store.set(`mg:v1:{filler}:msg:${i}`, filler, 600)
  const info = await admin.info('stats')
  assert.ok(Number(/evicted_keys:(\d+)/.exec(info)?.[1]) > 0, 'Redis did evict')
}
