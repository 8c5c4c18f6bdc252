/**
 * The cache client auto-pipelines (commands of one tick go out together), and
 * an ioredis pipeline only knows the scripted commands defined before it was
 * built. Slots and leases define theirs when constructed (at start-up), so their first use,
 * in the same tick as other cache reads of a fresh client, on one Redis and
 * on the three-master cluster, is stored for real (another instance is
 * refused) and nothing is thrown out of the pipeline's callback.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { RedisLeases } from '../../src/cache/redis-leases.ts'
import { RedisSlots } from '../../src/cache/redis-slots.ts'
import type { RedisStore } from '../../src/cache/redis-store.ts'
import { bothRedisKinds, connectedRedisStore } from './helpers.ts'

const secret = randomBytes(32)

for (const target of bothRedisKinds()) {
  describe(`scripted commands under auto-pipelining (${target.name})`, () => {
    const stores: RedisStore[] = []
    const slots: RedisSlots[] = []
    after(async () => {
      await Promise.all(slots.map(async (s) => { await s.close() }))
      await Promise.all(stores.map(async (s) => { await s.close() }))
    })
    async function store (): Promise<RedisStore> {
      const s = await connectedRedisStore(target.url())
      stores.push(s)
      return s
    }

    test('a first slot take and lease among reads of the same tick', async () => {
      const [a, b] = [await store(), await store()]
      const account = `user-${randomUUID()}`
      const leaseName = `lease-${randomUUID()}`
      // built at start-up, as src/cache/index.ts does, before any traffic
      const mine = new RedisSlots(a, secret, { limit: 1 })
      slots.push(mine)
      const leases = new RedisLeases(a, secret)
      // reads on every node: a pipeline waits wherever the scripts' keys live
      const reads = Array.from({ length: 30 }, async () => await a.get(`k-${randomUUID()}`))
      const taken = mine.take(account)
      const lease = leases.tryAcquire(leaseName, 10_000)
      await Promise.all(reads)
      assert.ok(await taken !== null, 'the slot is granted')
      assert.ok(await lease !== null, 'the lease is granted')

      const theirs = new RedisSlots(b, secret, { limit: 1 })
      slots.push(theirs)
      assert.equal(await theirs.take(account), null, 'the slot is held in Redis: another instance is refused')
      assert.equal(await new RedisLeases(b, secret).tryAcquire(leaseName, 10_000), null, 'the lease is held in Redis')
    })
  })
}
