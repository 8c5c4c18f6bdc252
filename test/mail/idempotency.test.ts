/**
 * Idempotency-Key records: shared by instances over one Redis, claimed
 * atomically (of concurrent first requests exactly one runs), kept through
 * Redis memory-pressure eviction (durable state, as revocations are); in
 * process without Redis; a key of one account is nothing to another.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { accountTag } from '../../src/cache/keys.ts'
import { RedisIdempotencyRecords } from '../../src/cache/redis-idempotency.ts'
import type { RedisStore } from '../../src/cache/redis-store.ts'
import { GatewayError } from '../../src/mail/errors.ts'
import { IdempotencyRecords } from '../../src/mail/idempotency.ts'
import { adminClient, connectedRedisStore, limitMemory, memoryPressure, redisTargets, startRedis, testRedisCluster } from '../cache/helpers.ts'
import type { TestRedis } from '../cache/helpers.ts'

const secret = randomBytes(32)
let redis: TestRedis
let clusterUrl = ''
before(async () => {
  redis = await startRedis()
  clusterUrl = (await testRedisCluster()).url
})
const targets = redisTargets(() => redis.url, () => clusterUrl)
after(async () => { await redis.stop() })

/** One gateway instance's records over Redis (its own connection, its own local map). */
async function instance (url: string): Promise<{ records: IdempotencyRecords, store: RedisStore }> {
  const store = await connectedRedisStore(url)
  return { records: new IdempotencyRecords(new RedisIdempotencyRecords(store, secret)), store }
}

const answer = { status: 201, headers: { location: '/v1/messages/x' }, body: '{"id":"x"}' }
const conflict = (status: number) => (err: unknown): boolean => err instanceof GatewayError && err.code === 'idempotency-conflict' && err.status === status

for (const target of targets) {
  test(`two instances sharing Redis (${target.name}): the second sees "running" (409), then the first answer`, async () => {
    const [a, b] = [await instance(target.url()), await instance(target.url())]
    try {
      const key = randomUUID()
      assert.deepEqual(await a.records.begin('acct', key), { state: 'new' })
      await assert.rejects(b.records.begin('acct', key), conflict(409))
      await a.records.finish('acct', key, 'fp', answer)
      assert.deepEqual(await b.records.begin('acct', key), { state: 'done', fingerprint: 'fp', answer })
      // another account's identical key is its own
      assert.deepEqual(await b.records.begin('other', key), { state: 'new' })
      // abandoned on one instance: free on the other
      const retry = randomUUID()
      assert.deepEqual(await a.records.begin('acct', retry), { state: 'new' })
      await a.records.abandon('acct', retry)
      assert.deepEqual(await b.records.begin('acct', retry), { state: 'new' })
    } finally {
      await Promise.all([a.store.close(), b.store.close()])
    }
  })

  test(`concurrent first requests with one key on several instances (${target.name}): exactly one runs`, async () => {
    const instances = await Promise.all(Array.from({ length: 6 }, async () => await instance(target.url())))
    try {
      for (let round = 0; round < 5; round++) {
        const key = randomUUID()
        const outcomes = await Promise.allSettled(instances.map(async (i) => await i.records.begin('acct', key)))
        const ran = outcomes.filter(o => o.status === 'fulfilled')
        assert.equal(ran.length, 1, `round ${round}: ${ran.length} instances ran the key`)
        for (const o of outcomes) if (o.status === 'rejected') assert.ok(conflict(409)(o.reason))
      }
    } finally {
      await Promise.all(instances.map(async (i) => await i.store.close()))
    }
  })

  test(`records carry their own expiry (${target.name}): a lapsed one frees its key and is pruned from Redis`, async () => {
    const store = await connectedRedisStore(target.url())
    const admin = await adminClient(target.url())
    try {
      const shared = new RedisIdempotencyRecords(store, secret)
      const account = randomUUID()
      const hash = `mg:v1:state:{${accountTag(secret, account)}}:idem`
      await shared.put(account, 'lapsing', 'first', Date.now() + 50)
      assert.equal(await shared.claim(account, 'lapsing', 'blocked', Date.now() + 60_000), 'first')
      assert.equal(await admin.hlen(hash), 1)
      await sleep(100)
      assert.equal(await shared.get(account, 'lapsing'), null)
      assert.equal(await shared.claim(account, 'other', 'x', Date.now() + 60_000), null)
      assert.equal(await admin.hlen(hash), 1, 'the write pruned the lapsed record')
      assert.equal(await admin.zcard(`${hash}-due`), 1)
      assert.equal(await shared.claim(account, 'lapsing', 'second', Date.now() + 60_000), null, 'a lapsed record frees its key')
      assert.equal(await shared.claim(account, 'lapsing', 'third', Date.now() + 60_000), 'second')
    } finally {
      admin.disconnect()
      await store.close()
    }
  })
}

test('Redis at its memory limit under volatile-lru: cache entries are evicted, idempotency records are not', async () => {
  const own = await startRedis()
  const admin = new Redis(own.url)
  const a = await instance(own.url)
  try {
    await limitMemory(admin)
    const keys = Array.from({ length: 20 }, () => randomUUID())
    for (const key of keys) {
      await a.records.begin('acct', key)
      await a.records.finish('acct', key, 'fp', answer)
    }
    const state = await admin.keys('mg:v1:state:*')
    assert.ok(state.length > 0, 'records are stored under mg:v1:state:')
    for (const k of state) assert.equal(await admin.ttl(k), -1, `${k} has no TTL`)
    await memoryPressure(admin, a.store)
    // a fresh instance: no local map, only what Redis kept
    const fresh = await instance(own.url)
    try {
      for (const key of keys) assert.deepEqual(await fresh.records.begin('acct', key), { state: 'done', fingerprint: 'fp', answer })
    } finally {
      await fresh.store.close()
    }
  } finally {
    admin.disconnect()
    await a.store.close()
    await own.stop()
  }
})

test('Redis unreachable: a new key is refused (503), never run unrecorded', async () => {
  const own = await startRedis()
  const a = await instance(own.url)
  try {
    await own.kill()
    await assert.rejects(a.records.begin('acct', randomUUID()), (err: unknown) => err instanceof GatewayError && err.status === 503)
  } finally {
    await a.store.close()
    await own.stop()
  }
})

test('without Redis the process keeps its own records; another process does not see them', async () => {
  const records = new IdempotencyRecords(null)
  const key = randomUUID()
  assert.deepEqual(await records.begin('acct', key), { state: 'new' })
  await assert.rejects(records.begin('acct', key), conflict(409))
  await records.finish('acct', key, 'fp', answer)
  assert.deepEqual(await records.begin('acct', key), { state: 'done', fingerprint: 'fp', answer })
  assert.deepEqual(await new IdempotencyRecords(null).begin('acct', key), { state: 'new' })
  await records.abandon('acct', key)
  assert.deepEqual(await records.begin('acct', key), { state: 'new' }, 'abandoned: the key is free again')
})

test('the 422 of a reused key is the same code with the catalogue\'s other status', () => {
  const err = new GatewayError('idempotency-conflict', 'x', { altStatus: true })
  assert.equal(err.status, 422)
  assert.equal(new GatewayError('idempotency-conflict').status, 409)
})
