/**
 * CacheStore behaviour, run against both backends: roundtrip, miss, delete,
 * overwrite, TTL expiry; and the in-process store's byte bound.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { MemoryStore } from '../../src/cache/memory-store.ts'
import { startRedis, storeFactories, testRedisCluster } from './helpers.ts'
import type { TestRedis } from './helpers.ts'

let redis: TestRedis
let clusterUrl = ''
before(async () => {
  redis = await startRedis()
  clusterUrl = (await testRedisCluster()).url
})
after(async () => { await redis.stop() })

for (const factory of storeFactories(() => redis.url, () => clusterUrl)) {
  describe(`CacheStore (${factory.name})`, () => {
    test('roundtrips bytes, misses unknown keys, deletes', async () => {
      const store = await factory.make()
      try {
        const value = randomBytes(300)
        await store.set('t:a', value, 60)
        const got = await store.get('t:a')
        assert.ok(got !== null)
        assert.ok(got.equals(value))
        assert.equal(await store.get('t:missing'), null)
        await store.del('t:a')
        assert.equal(await store.get('t:a'), null)
        await store.del('t:never-set')
        assert.deepEqual(store.status(), { backend: factory.name === 'memory' ? 'memory' : 'redis', status: 'ok' })
      } finally {
        await store.close()
      }
    })

    test('overwrite replaces the value; the stored copy is independent of the caller buffer', async () => {
      const store = await factory.make()
      try {
        const buf = Buffer.from('first')
        await store.set('t:o', buf, 60)
        buf.write('XXXXX')
        assert.equal((await store.get('t:o'))?.toString(), 'first')
        await store.set('t:o', Buffer.from('second'), 60)
        assert.equal((await store.get('t:o'))?.toString(), 'second')
      } finally {
        await store.close()
      }
    })

    test('entries expire after their TTL', async () => {
      const store = await factory.make()
      try {
        await store.set('t:short', Buffer.from('x'), 1)
        await store.set('t:long', Buffer.from('y'), 30)
        assert.equal((await store.get('t:short'))?.toString(), 'x')
        await sleep(1300)
        assert.equal(await store.get('t:short'), null)
        assert.equal((await store.get('t:long'))?.toString(), 'y')
      } finally {
        await store.close()
      }
    })

    test('odd TTLs (0, fractional) still store with a positive TTL', async () => {
      const store = await factory.make()
      try {
        await store.set('t:zero', Buffer.from('z'), 0)
        await store.set('t:frac', Buffer.from('f'), 0.2)
        assert.equal((await store.get('t:zero'))?.toString(), 'z')
        assert.equal((await store.get('t:frac'))?.toString(), 'f')
      } finally {
        await store.close()
      }
    })
  })
}

describe('MemoryStore byte bound', () => {
  test('evicts least recently used entries to stay under maxBytes', async () => {
    const store = new MemoryStore({ maxBytes: 64 * 1024 })
    const chunk = 4 * 1024
    for (let i = 0; i < 40; i++) await store.set(`k${i}`, randomBytes(chunk), 60)
    assert.ok(store.calculatedSize <= 64 * 1024, `size ${store.calculatedSize}`)
    assert.equal(await store.get('k0'), null, 'oldest entry evicted')
    assert.ok((await store.get('k39')) !== null, 'newest entry kept')
    let kept = 0
    for (let i = 0; i < 40; i++) if ((await store.get(`k${i}`)) !== null) kept++
    assert.ok(kept > 5 && kept < 16, `kept ${kept} of 40 4-KiB entries in 64 KiB`)
  })

  test('an entry larger than the per-entry bound is not stored and does not flush the cache', async () => {
    const store = new MemoryStore({ maxBytes: 64 * 1024 })
    await store.set('small', Buffer.from('s'), 60)
    await store.set('huge', randomBytes(40 * 1024), 60)
    assert.equal(await store.get('huge'), null)
    assert.equal((await store.get('small'))?.toString(), 's')
  })
})
