/**
 * Connection slots per account across instances (src/cache/redis-slots.ts)
 * against the real single Redis and the real three-master cluster: the limit
 * holds across instances, a give-back frees a slot, renewal keeps slots past
 * the ttl, a dead instance's slots free themselves, "want" and "free" reach
 * the other instances, and the keys share a slot without naming the account.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { RedisSlots } from '../../src/cache/redis-slots.ts'
import type { RedisStore } from '../../src/cache/redis-store.ts'
import { adminClient, bothRedisKinds, connectedRedisStore, keySlot, waitFor } from './helpers.ts'

const secret = randomBytes(32)
const targets = bothRedisKinds()

for (const target of targets) {
  describe(`connection slots (${target.name})`, () => {
    const stores: RedisStore[] = []
    const slots: RedisSlots[] = []
    /** One gateway instance's slots (its own connection). */
    async function instance (limit: number, ttlMs = 15_000): Promise<RedisSlots> {
      const store = await connectedRedisStore(target.url())
      stores.push(store)
      const s = new RedisSlots(store, secret, { limit, ttlMs })
      slots.push(s)
      return s
    }
    after(async () => {
      await Promise.all(slots.map(async (s) => { await s.close() }))
      await Promise.all(stores.map(async (s) => { await s.close() }))
    })

    test('the limit holds across instances; a give-back frees a slot', async () => {
      const [a, b] = [await instance(2), await instance(2)]
      const account = `user-${randomUUID()}@example.com`
      const first = await a.take(account)
      const second = await b.take(account)
      assert.ok(first !== null && second !== null)
      assert.equal(await a.take(account), null)
      assert.equal(await b.take(account), null)
      assert.ok(await b.take(`other-${randomUUID()}`) !== null, 'another account has its own slots')
      first()
      first()
      await waitFor(() => true)
      let third = null
      for (let i = 0; i < 50 && third === null; i++) third = await b.take(account)
      assert.ok(third !== null, 'the freed slot is granted')
      assert.equal(await a.take(account), null)
      second()
      third()
    })

    test('held slots are renewed past the ttl; a dead instance\'s slots free themselves', async () => {
      const [a, b] = [await instance(1, 600), await instance(1, 600)]
      const account = `user-${randomUUID()}`
      assert.ok(await a.take(account) !== null)
      await sleep(1500)
      assert.equal(await b.take(account), null, 'renewed by a: still held after 2.5 ttl')
      await a.close() // stops renewing without giving back: as a killed instance
      const diedAt = Date.now()
      let granted = null
      while (granted === null && Date.now() - diedAt < 5000) {
        await sleep(50)
        granted = await b.take(account)
      }
      assert.ok(granted !== null, 'granted once the dead holder expired')
      granted()
    })

    test('a refused take tells holders "wanted"; a give-back then tells the waiter "freed"', async () => {
      const [a, b] = [await instance(1), await instance(1)]
      const events: string[] = []
      a.listen({ freed: () => {}, wanted: (g) => events.push(`a wanted ${g}`) })
      b.listen({ freed: (g) => events.push(`b freed ${g}`), wanted: () => {} })
      await sleep(500) // subscriptions ready
      const account = `user-${randomUUID()}`
      const give = await a.take(account)
      assert.ok(give !== null)
      assert.equal(await b.take(account), null)
      await waitFor(() => events.includes(`a wanted ${account}`), 5000, 'wanted reached the holder')
      give()
      await waitFor(() => events.includes(`b freed ${account}`), 5000, 'freed reached the waiter')
    })

    test('both keys share the account\'s slot, the set has a TTL, the account is not in clear', async () => {
      const a = await instance(1)
      const account = `user-${randomUUID()}@example.com`
      const give = await a.take(account)
      assert.ok(give !== null)
      assert.equal(await a.take(account), null)
      const admin = await adminClient(target.url())
      try {
        const keys: string[] = []
        if (target.name === 'redis') keys.push(...await admin.keys('mg:v1:{*}:conns*'))
        else for (const node of (admin as unknown as { nodes: (r: string) => typeof admin[] }).nodes('master')) keys.push(...await node.keys('mg:v1:{*}:conns*'))
        const ours = keys.filter(k => k.endsWith(':conns') && keys.includes(`${k}-wanted`))
        assert.ok(ours.length >= 1)
        for (const k of keys) assert.ok(!k.includes('example.com'))
        const set = ours[0]!
        const pttl = await admin.pttl(set)
        assert.ok(pttl > 0 && pttl <= 15_000, `set pttl ${pttl}`)
        if (target.name === 'redis-cluster') assert.equal(await keySlot(admin, set), await keySlot(admin, `${set}-wanted`))
      } finally {
        admin.disconnect()
        give()
      }
    })
  })
}
