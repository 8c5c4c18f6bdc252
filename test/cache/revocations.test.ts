/**
 * Revocations on both backends; across two gateway instances sharing Redis;
 * and while Redis is down (the revoking instance still refuses the token).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { MemoryStore } from '../../src/cache/memory-store.ts'
import { createRevocations } from '../../src/cache/revocations.ts'
import { connectedRedisStore, startRedis, storeFactories, waitFor } from './helpers.ts'
import type { TestRedis } from './helpers.ts'

const secret = randomBytes(32)
let redis: TestRedis
before(async () => { redis = await startRedis() })
after(async () => { await redis.stop() })

for (const factory of storeFactories(() => redis.url)) {
  describe(`revocations (${factory.name})`, () => {
    test('a revoked token is revoked, others are not; an already expired token needs no entry', async () => {
      const store = await factory.make()
      try {
        const rev = createRevocations(store, secret)
        const t1 = randomUUID()
        const t2 = randomUUID()
        assert.equal(await rev.isRevoked(t1), false)
        await rev.revoke(t1, Date.now() + 60_000)
        assert.equal(await rev.isRevoked(t1), true)
        assert.equal(await rev.isRevoked(t2), false)
        await rev.revoke(t2, new Date(Date.now() - 1000))
        assert.equal(await rev.isRevoked(t2), false)
      } finally {
        await store.close()
      }
    })

    test('the entry lasts until the token expiry (plus slack), then goes', async () => {
      const store = await factory.make()
      try {
        const rev = createRevocations(store, secret, { slackSeconds: 0 })
        const t = randomUUID()
        await rev.revoke(t, Date.now() + 1000)
        assert.equal(await rev.isRevoked(t), true)
        await sleep(1400)
        assert.equal(await rev.isRevoked(t), false)
      } finally {
        await store.close()
      }
    })
  })
}

describe('revocations across instances', () => {
  test('two gateway instances sharing Redis: a revocation on one is honoured by the other', async () => {
    const storeA = await connectedRedisStore(redis.url)
    const storeB = await connectedRedisStore(redis.url)
    try {
      const a = createRevocations(storeA, secret)
      const b = createRevocations(storeB, secret)
      const t = randomUUID()
      assert.equal(await b.isRevoked(t), false)
      await a.revoke(t, Date.now() + 600_000)
      assert.equal(await b.isRevoked(t), true)
      // A third instance started later (e.g. after a deploy) sees it too.
      const storeC = await connectedRedisStore(redis.url)
      try {
        assert.equal(await createRevocations(storeC, secret).isRevoked(t), true)
      } finally {
        await storeC.close()
      }
    } finally {
      await storeA.close()
      await storeB.close()
    }
  })

  test('memory stores are per instance: only the revoking instance knows', async () => {
    const a = createRevocations(new MemoryStore({ maxBytes: 1 << 20 }), secret)
    const b = createRevocations(new MemoryStore({ maxBytes: 1 << 20 }), secret)
    const t = randomUUID()
    await a.revoke(t, Date.now() + 60_000)
    assert.equal(await a.isRevoked(t), true)
    assert.equal(await b.isRevoked(t), false)
  })

  test('a revocation survives memory-store eviction pressure', async () => {
    const store = new MemoryStore({ maxBytes: 16 * 1024 })
    const rev = createRevocations(store, secret)
    const t = randomUUID()
    await rev.revoke(t, Date.now() + 60_000)
    for (let i = 0; i < 100; i++) await store.set(`filler${i}`, randomBytes(1024), 60)
    assert.equal(await rev.isRevoked(t), true)
  })

  test('Redis down: the revoking instance still refuses the token; after recovery, others see earlier revocations', async () => {
    const storeA = await connectedRedisStore(redis.url)
    const storeB = await connectedRedisStore(redis.url)
    try {
      const a = createRevocations(storeA, secret)
      const b = createRevocations(storeB, secret)
      const before = randomUUID()
      await a.revoke(before, Date.now() + 600_000)
      await redis.kill()
      const during = randomUUID()
      await a.revoke(during, Date.now() + 600_000)
      assert.equal(await a.isRevoked(during), true, 'local fallback while Redis is down')
      assert.equal(await a.isRevoked(before), true)
      await redis.restart()
      await waitFor(() => storeB.status().status === 'ok', 10_000, 'instance B reconnected')
      // Redis here runs without persistence, so `before` was lost with the kill;
      // a revocation made after recovery reaches B again.
      const afterRecovery = randomUUID()
      await waitFor(() => storeA.status().status === 'ok', 10_000, 'instance A reconnected')
      await a.revoke(afterRecovery, Date.now() + 600_000)
      assert.equal(await b.isRevoked(afterRecovery), true)
      assert.equal(await a.isRevoked(during), true)
    } finally {
      await storeA.close()
      await storeB.close()
    }
  })
})

test('an expiry given in Unix seconds is not mistaken for an expired token', async () => {
  const rev = createRevocations(new MemoryStore({ maxBytes: 1 << 20 }), secret)
  const t = randomUUID()
  await rev.revoke(t, Math.floor(Date.now() / 1000) + 600)
  assert.equal(await rev.isRevoked(t), true)
})
