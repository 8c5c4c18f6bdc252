/**
 * Idempotency-Key records: shared by two instances over one Redis; durable
 * in the instance that wrote them even when the cache evicts them (as
 * revocations are); a key of one account is nothing to another.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { MemoryStore } from '../../src/cache/memory-store.ts'
import { createSealedCache } from '../../src/cache/sealed.ts'
import { GatewayError } from '../../src/mail/errors.ts'
import { IdempotencyRecords } from '../../src/mail/idempotency.ts'
import type { CachePort } from '../../src/mail/cache-port.ts'
import type { CacheStore } from '../../src/cache/cache.ts'
import { connectedRedisStore, startRedis } from '../cache/helpers.ts'
import type { TestRedis } from '../cache/helpers.ts'

const secret = randomBytes(32)
let redis: TestRedis
before(async () => { redis = await startRedis() })
after(async () => { await redis.stop() })

const port = (store: CacheStore): CachePort => {
  const sealed = createSealedCache(store, secret)
  return { forAccount: (id) => sealed.forAccount(id), status: () => store.status() }
}
const answer = { status: 201, headers: { location: '/v1/messages/x' }, body: '{"id":"x"}' }
const conflict = (status: number) => (err: unknown): boolean => err instanceof GatewayError && err.code === 'idempotency-conflict' && err.status === status

test('two instances sharing Redis: the second sees "running" (409), then the first answer', async () => {
  const [s1, s2] = [await connectedRedisStore(redis.url), await connectedRedisStore(redis.url)]
  try {
    const a = new IdempotencyRecords(port(s1))
    const b = new IdempotencyRecords(port(s2))
    const key = randomUUID()
    assert.deepEqual(await a.begin('acct', key), { state: 'new' })
    await assert.rejects(b.begin('acct', key), conflict(409))
    await a.finish('acct', key, 'fp', answer)
    assert.deepEqual(await b.begin('acct', key), { state: 'done', fingerprint: 'fp', answer })
    // another account's identical key is its own
    assert.deepEqual(await b.begin('other', key), { state: 'new' })
  } finally {
    await Promise.all([s1.close(), s2.close()])
  }
})

test('a record the cache evicted is still honoured by the instance that wrote it', async () => {
  // a store that forgets at once: what an LRU under pressure, or a flushed Redis, does
  const store = new MemoryStore({ maxBytes: 1024 })
  const forgetful: CacheStore = {
    get: async () => null,
    set: (k, v, ttl) => store.set(k, v, ttl),
    del: (k) => store.del(k),
    status: () => store.status(),
    close: () => store.close(),
  }
  const records = new IdempotencyRecords(port(forgetful))
  const key = randomUUID()
  assert.deepEqual(await records.begin('acct', key), { state: 'new' })
  await assert.rejects(records.begin('acct', key), conflict(409))
  await records.finish('acct', key, 'fp', answer)
  assert.deepEqual(await records.begin('acct', key), { state: 'done', fingerprint: 'fp', answer })
  await records.abandon('acct', key)
  assert.deepEqual(await records.begin('acct', key), { state: 'new' }, 'abandoned: the key is free again')
})

test('the 422 of a reused key is the same code with the catalogue\'s other status', () => {
  const err = new GatewayError('idempotency-conflict', 'x', { altStatus: true })
  assert.equal(err.status, 422)
  assert.equal(new GatewayError('idempotency-conflict').status, 409)
})
