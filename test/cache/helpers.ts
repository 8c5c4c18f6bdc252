/**
 * Shared fixtures for the cache tests: a private redis-server per test file
 * (from the harness, test/env/redis.ts: these tests kill and restart it), and
 * the list of store factories every suite loops over.
 */
import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import { waitFor } from '../env/wait.ts'
import type { CacheLogger, CacheStore } from '../../src/cache/cache.ts'
import { MemoryStore } from '../../src/cache/memory-store.ts'
import { createRedisClient, RedisStore } from '../../src/cache/redis-store.ts'

import { startRedis, type RedisEnv } from '../env/redis.ts'
import { testRedisCluster } from '../env/shared.ts'
export { startRedis, testRedisCluster }
export type { RedisEnv as TestRedis } from '../env/redis.ts'

export async function connectedRedisStore (url: string, logger?: CacheLogger): Promise<RedisStore> {
  const store = new RedisStore(logger === undefined ? { url } : { url, logger })
  await waitFor(() => store.status().status === 'ok', 5000, 'redis store ready')
  return store
}

export interface StoreFactory {
  name: 'memory' | 'redis' | 'redis-cluster'
  make: (opts?: { maxBytes?: number }) => Promise<CacheStore>
}

/** Every cache suite loops over these; `redisUrl` from startRedis(), `clusterUrl` from testRedisCluster(). */
export function storeFactories (redisUrl: () => string, clusterUrl: () => string): StoreFactory[] {
  return [
    { name: 'memory', make: async (opts) => new MemoryStore({ maxBytes: opts?.maxBytes ?? 8 * 1024 * 1024 }) },
    { name: 'redis', make: async () => await connectedRedisStore(redisUrl()) },
    { name: 'redis-cluster', make: async () => await connectedRedisStore(clusterUrl()) },
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

export interface RedisTarget {
  name: 'redis' | 'redis-cluster'
  /** A URL as REDIS_URL takes it: redis://… or redis+cluster://… */
  url: () => string
}

/**
 * The two kinds of Redis every shared-state suite runs against: the file's own
 * single redis-server (`single()`) and the run's three-master cluster (call
 * `await testRedisCluster()` in a `before` first).
 */
export function redisTargets (single: () => string, cluster: () => string): RedisTarget[] {
  return [{ name: 'redis', url: single }, { name: 'redis-cluster', url: cluster }]
}

/**
 * For a file whose suites all run on both kinds: registers the hooks that start
 * the file's own single Redis (stopped after) and look up the run's cluster.
 */
export function bothRedisKinds (): RedisTarget[] {
  let single: RedisEnv | undefined
  let cluster = ''
  before(async () => {
    const [s, c] = await Promise.all([startRedis(), testRedisCluster()])
    single = s
    cluster = c.url
  })
  after(async () => { await single?.stop() })
  return redisTargets(() => single?.url ?? '', () => cluster)
}

/** A client for tests' own looks at Redis (either kind), connected. */
export async function adminClient (url: string): Promise<Redis> {
  const client = createRedisClient({ url, commandTimeoutMs: 5000, connectTimeoutMs: 5000 })
  await waitFor(() => client.status === 'ready', 10_000, 'admin redis client ready')
  return client
}

/** Hash slot of a key, asked of the server (CLUSTER KEYSLOT works on cluster nodes only). */
export async function keySlot (client: Redis, key: string): Promise<number> {
  return Number(await client.call('CLUSTER', 'KEYSLOT', key))
}
