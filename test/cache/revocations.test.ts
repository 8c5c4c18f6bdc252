/**
 * Revocations with and without a shared list; across gateway instances sharing
 * Redis; while Redis is down (a revocation that cannot be shared is refused,
 * never acknowledged and lost); and under Redis memory pressure (eviction
 * cannot drop one).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { RedisRevocationList } from '../../src/cache/redis-revocations.ts'
import { REV_BASE, REV_MEMBER } from '../../src/cache/revocation-mirror.ts'
import type { RedisStore } from '../../src/cache/redis-store.ts'
import { globalKey } from '../../src/cache/keys.ts'
import { REVOCATION_LIST_KEY } from '../../src/cache/redis-revocations.ts'
import { createRevocations } from '../../src/cache/revocations.ts'
import type { Revocations } from '../../src/cache/revocations.ts'
import { adminClient, connectedRedisStore, limitMemory, memoryPressure, redisTargets, startRedis, testRedisCluster, waitFor } from './helpers.ts'
import type { TestRedis } from './helpers.ts'

const secret = randomBytes(32)
let redis: TestRedis
let clusterUrl = ''
before(async () => {
  redis = await startRedis()
  clusterUrl = (await testRedisCluster()).url
})
const targets = redisTargets(() => redis.url, () => clusterUrl)
after(async () => { await redis.stop() })

/** One gateway instance's revocations over Redis. */
async function instance (url: string, opts: { slackSeconds?: number } = {}): Promise<{ rev: Revocations, store: RedisStore, list: RedisRevocationList }> {
  const store = await connectedRedisStore(url)
  const list = new RedisRevocationList(store, { boundMs: BOUND_MS })
  // as createCache's close() does: the copy's subscriber goes with the store
  const closeStore = store.close.bind(store)
  store.close = async () => { list.close(); await closeStore() }
  return { rev: createRevocations(list, secret, opts), store, list }
}

/** The bound docs/security.md states (the mirror's default). */
const BOUND_MS = 1000
const memberOf = (tokenId: string): string => globalKey(secret, 'rev', tokenId)
/** Resolves once `check` holds, polling; the stated bound is the wait limit. */
async function within (ms: number, what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = performance.now() + ms
  for (;;) {
    if (await check()) return
    if (performance.now() > deadline) assert.fail(`${what}: not within ${ms} ms`)
    await sleep(10)
  }
}

const kinds: Array<{ name: string, make: (opts?: { slackSeconds?: number }) => Promise<{ rev: Revocations, close: () => Promise<void> }> }> = [
  { name: 'in-process', make: async (opts) => ({ rev: createRevocations(null, secret, opts), close: async () => {} }) },
  ...targets.map(target => ({
    name: target.name,
    make: async (opts?: { slackSeconds?: number }) => {
      const { rev, store } = await instance(target.url(), opts)
      return { rev, close: () => store.close() }
    },
  })),
]

for (const kind of kinds) {
  describe(`revocations (${kind.name})`, () => {
    test('a revoked token is revoked, others are not; an already expired token needs no entry', async () => {
      const { rev, close } = await kind.make()
      try {
        const t1 = randomUUID()
        const t2 = randomUUID()
        assert.equal(await rev.isRevoked(t1), false)
        await rev.revoke(t1, Date.now() + 60_000)
        assert.equal(await rev.isRevoked(t1), true)
        assert.equal(await rev.isRevoked(t2), false)
        await rev.revoke(t2, new Date(Date.now() - 1000))
        assert.equal(await rev.isRevoked(t2), false)
      } finally {
        await close()
      }
    })

    test('the entry lasts until the token expiry (plus slack), then goes', async () => {
      const { rev, close } = await kind.make({ slackSeconds: 0 })
      try {
        const t = randomUUID()
        await rev.revoke(t, Date.now() + 1000)
        assert.equal(await rev.isRevoked(t), true)
        await sleep(1400)
        assert.equal(await rev.isRevoked(t), false)
      } finally {
        await close()
      }
    })
  })
}

describe('revocations across instances', () => {
  for (const target of targets) {
    test(`two gateway instances sharing Redis (${target.name}): a revocation on one is honoured by the other, and by one started later`, async () => {
      const a = await instance(target.url())
      const b = await instance(target.url())
      try {
        const t = randomUUID()
        assert.equal(await b.rev.isRevoked(t), false)
        await a.rev.revoke(t, Date.now() + 600_000)
        assert.equal(await b.rev.isRevoked(t), true)
        const c = await instance(target.url())
        try {
          assert.equal(await c.rev.isRevoked(t), true)
        } finally {
          await c.store.close()
        }
      } finally {
        await a.store.close()
        await b.store.close()
      }
    })
  }

  for (const target of targets) {
    test(`(${target.name}) another instance refuses a revoked token within the bound, from its own copy`, async () => {
      const a = await instance(target.url())
      const b = await instance(target.url())
      try {
        await waitFor(() => b.list.mirror.current(), 10_000, 'copy confirmed current')
        const t = randomUUID()
        // a token's first check also reads the key of the layout before the sorted set; later ones use the copy alone
        assert.equal(await b.rev.isRevoked(t), false)
        assert.equal(b.list.mirror.lookup(memberOf(t)), false, 'answered from the copy, no Redis read')
        await a.rev.revoke(t, Date.now() + 600_000)
        await within(BOUND_MS, 'refused by the other instance', async () => await b.rev.isRevoked(t))
        await within(BOUND_MS, 'in its copy', () => b.list.mirror.lookup(memberOf(t)) === true)
      } finally {
        await a.store.close()
        await b.store.close()
      }
    })

    test(`(${target.name}) a revocation whose message was lost is still honoured within the bound`, async () => {
      const b = await instance(target.url())
      const admin = await adminClient(target.url())
      try {
        await waitFor(() => b.list.mirror.current(), 10_000, 'copy confirmed current')
        const t = randomUUID()
        assert.equal(await b.rev.isRevoked(t), false, 'checked once: later checks use the copy')
        // what a revoking instance's script does, minus the PUBLISH: the message is "lost"
        const rev = Number((await admin.zscore(REVOCATION_LIST_KEY, REV_MEMBER)) ?? REV_BASE) + 1
        await admin.zadd(REVOCATION_LIST_KEY, Date.now() + 600_000, memberOf(t), rev, REV_MEMBER)
        await within(BOUND_MS, 'refused by the instance that missed the message', async () => await b.rev.isRevoked(t))
      } finally {
        admin.disconnect()
        await b.store.close()
      }
    })
  }

  test('Redis unreachable: tokens are checked against the last copy loaded; with none, refused', async () => {
    const own = await startRedis()
    const a = await instance(own.url)
    const b = await instance(own.url)
    try {
      await waitFor(() => b.list.mirror.current(), 10_000, 'copy confirmed current')
      const revoked = randomUUID()
      const fine = randomUUID()
      await a.rev.revoke(revoked, Date.now() + 600_000)
      await within(BOUND_MS * 10, 'the revocation in b\'s copy', async () => await b.rev.isRevoked(revoked))
      await own.kill()
      // past the bound the copy is no longer confirmed and Redis cannot answer: no revocation can be
      // acknowledged meanwhile, so the last copy still decides — revoked stays refused, others are served
      await waitFor(() => !b.list.mirror.current(), 10_000, 'copy past its bound')
      assert.equal(await b.rev.isRevoked(revoked), true, 'revoked on another instance, still refused')
      assert.equal(await b.rev.isRevoked(fine), false, 'a token never revoked is served')
      // an instance that never loaded a copy cannot check anything: it refuses (503 at the faces)
      const { RedisStore } = await import('../../src/cache/redis-store.ts')
      const cold = new RedisStore({ url: own.url })
      const coldList = new RedisRevocationList(cold, { boundMs: BOUND_MS })
      try {
        await assert.rejects(createRevocations(coldList, secret).isRevoked(fine))
      } finally {
        coldList.close()
        await cold.close()
      }
    } finally {
      await a.store.close()
      await b.store.close()
      await own.stop()
    }
  })

  test('in-process revocations are per instance: only the revoking instance knows', async () => {
    const a = createRevocations(null, secret)
    const b = createRevocations(null, secret)
    const t = randomUUID()
    await a.revoke(t, Date.now() + 60_000)
    assert.equal(await a.isRevoked(t), true)
    assert.equal(await b.isRevoked(t), false)
  })

  test('Redis down: revoke() rejects (never acknowledged unshared); what this instance revoked before stays refused', async () => {
    const own = await startRedis()
    const a = await instance(own.url)
    const b = await instance(own.url)
    try {
      const earlier = randomUUID()
      await a.rev.revoke(earlier, Date.now() + 600_000)
      await own.kill()
      const during = randomUUID()
      await assert.rejects(a.rev.revoke(during, Date.now() + 600_000))
      assert.equal(await a.rev.isRevoked(earlier), true, 'local list while Redis is down')
      // not revoked (false), or not checkable once the copy is past its bound (rejects): never true
      assert.notEqual(await a.rev.isRevoked(during).catch(() => 'refused'), true, 'a refused revocation is not half-done: the client repeats it')
      await own.restart()
      await waitFor(() => a.store.status().status === 'ok' && b.store.status().status === 'ok', 10_000, 'both reconnected')
      // the client repeats the refused revocation: now every instance sees it
      await a.rev.revoke(during, Date.now() + 600_000)
      assert.equal(await b.rev.isRevoked(during), true)
    } finally {
      await a.store.close()
      await b.store.close()
      await own.stop()
    }
  })

  test('Redis at its memory limit under volatile-lru: cache entries are evicted, revocations are not', async () => {
    const own = await startRedis()
    const admin = new Redis(own.url)
    const a = await instance(own.url)
    try {
      await limitMemory(admin)
      const revoked = Array.from({ length: 20 }, () => randomUUID())
      for (const t of revoked) await a.rev.revoke(t, Date.now() + 600_000)
      await memoryPressure(admin, a.store)
      // a fresh instance: no local list, only what Redis kept
      const fresh = await instance(own.url)
      try {
        for (const t of revoked) assert.equal(await fresh.rev.isRevoked(t), true)
      } finally {
        await fresh.store.close()
      }
    } finally {
      admin.disconnect()
      await a.store.close()
      await own.stop()
    }
  })
})

test('an expiry given in Unix seconds is not mistaken for an expired token', async () => {
  const rev = createRevocations(null, secret)
  const t = randomUUID()
  await rev.revoke(t, Math.floor(Date.now() / 1000) + 600)
  assert.equal(await rev.isRevoked(t), true)
})
