/**
 * The account-scoped sealed API, on both backends: roundtrip, account
 * isolation (also against copied and tampered raw values), compression,
 * cache-through with single-flight.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { createSealedCache } from '../../src/cache/sealed.ts'
import { COMPRESS_MIN_BYTES } from '../../src/cache/seal.ts'
import { startRedis, storeFactories, testRedisCluster } from './helpers.ts'
import type { TestRedis } from './helpers.ts'

const secret = randomBytes(32)
let redis: TestRedis
let clusterUrl = ''
before(async () => {
  redis = await startRedis()
  clusterUrl = (await testRedisCluster()).url
})
after(async () => { await redis.stop() })

for (const factory of storeFactories(() => redis.url, () => clusterUrl)) {
  describe(`sealed cache (${factory.name})`, () => {
    test('JSON and buffers roundtrip; stored bytes are not the plaintext', async () => {
      const store = await factory.make()
      try {
        const c = createSealedCache(store, secret).forAccount(`acct-${randomUUID()}`)
        const msg = { subject: 'Quarterly numbers', flags: ['\\Seen'], size: 1234 }
        await c.setJson('message', ['INBOX', 7, 1], msg, 60)
        assert.deepEqual(await c.getJson('message', ['INBOX', 7, 1]), msg)
        assert.equal(await c.getJson('message', ['INBOX', 7, 2]), null)
        const raw = await store.get(c.key('message', ['INBOX', 7, 1]))
        assert.ok(raw !== null)
        assert.ok(!raw.toString('latin1').includes('Quarterly'))
        const body = Buffer.from('From: a@example.com\r\n\r\nhello body')
        await c.setBuffer('raw', ['INBOX', 7, 1], body, 60)
        assert.ok((await c.getBuffer('raw', ['INBOX', 7, 1]))?.equals(body))
        await c.del('raw', ['INBOX', 7, 1])
        assert.equal(await c.getBuffer('raw', ['INBOX', 7, 1]), null)
      } finally {
        await store.close()
      }
    })

    test('a value given in pieces reads back whole, deflated or not, and is stored sealed', async () => {
      const store = await factory.make()
      try {
        const c = createSealedCache(store, secret).forAccount(`acct-${randomUUID()}`)
        const noise = randomBytes(600 * 1024) // does not deflate: sealed as it is
        const text = Buffer.from('\x01'.repeat(700 * 1024)) // deflates
        for (const [i, value] of [noise, text, Buffer.from('short')].entries()) {
          const pieces = (): Buffer[] => Array.from({ length: Math.ceil(value.length / 100_000) }, (_, j) => value.subarray(j * 100_000, (j + 1) * 100_000))
          await c.setBuffer('raw', [i], { length: value.length, pieces }, 60)
          assert.ok((await c.getBuffer('raw', [i]))?.equals(value), `value ${i}`)
          const raw = await store.get(c.key('raw', [i]))
          assert.ok(raw !== null && !raw.includes(value.subarray(0, 64)))
          if (value === text) assert.ok(raw.length < value.length / 8, `${raw.length} bytes stored`)
        }
      } finally {
        await store.close()
      }
    })

    test('a value whose pieces cannot be made is not written, and the write fails instead of waiting', { timeout: 20_000 }, async () => {
      const store = await factory.make()
      try {
        const c = createSealedCache(store, secret).forAccount(`acct-${randomUUID()}`)
        function * pieces (): Generator<Buffer> {
          yield Buffer.alloc(64 * 1024, 1)
          throw new Error('no piece')
        }
        await assert.rejects(c.setBuffer('raw', ['broken'], { length: 128 * 1024, pieces }, 60), /no piece/)
        assert.equal(await c.getBuffer('raw', ['broken']), null)
      } finally {
        await store.close()
      }
    })

    test('a value written for account A is never readable through account B', async () => {
      const store = await factory.make()
      try {
        const sealed = createSealedCache(store, secret)
        const a = sealed.forAccount(`A-${randomUUID()}`)
        const b = sealed.forAccount(`B-${randomUUID()}`)
        const parts = ['INBOX', 99, 5]
        await a.setJson('message', parts, { text: 'only for A' }, 60)
        // Same id through B: different key, miss.
        assert.notEqual(a.key('message', parts), b.key('message', parts))
        assert.equal(await b.getJson('message', parts), null)
        // Forged: copy A's raw value under B's key for the same id.
        const raw = await store.get(a.key('message', parts))
        assert.ok(raw !== null)
        await store.set(b.key('message', parts), raw, 60)
        assert.ok((await store.get(b.key('message', parts)))?.equals(raw), 'the raw copy is in place')
        assert.equal(await b.getJson('message', parts), null, 'copied value fails authentication → miss')
        assert.equal(await b.getBuffer('message', parts), null)
        // Within A, moving a value to another key fails too (key is AAD).
        await store.set(a.key('message', ['INBOX', 99, 6]), raw, 60)
        assert.equal(await a.getJson('message', ['INBOX', 99, 6]), null)
        // A itself still reads its own value.
        assert.deepEqual(await a.getJson('message', parts), { text: 'only for A' })
      } finally {
        await store.close()
      }
    })

    test('another gateway secret cannot read the entries', async () => {
      const store = await factory.make()
      try {
        const id = `acct-${randomUUID()}`
        const mine = createSealedCache(store, secret).forAccount(id)
        const theirs = createSealedCache(store, randomBytes(32)).forAccount(id)
        await mine.setJson('mailboxes', [], [{ name: 'Private' }], 60)
        const raw = await store.get(mine.key('mailboxes', []))
        assert.ok(raw !== null)
        await store.set(theirs.key('mailboxes', []), raw, 60)
        assert.equal(await theirs.getJson('mailboxes', []), null)
      } finally {
        await store.close()
      }
    })

    test('tampered or truncated values read as a miss', async () => {
      const store = await factory.make()
      try {
        const c = createSealedCache(store, secret).forAccount(`acct-${randomUUID()}`)
        await c.setJson('message', [1], { v: 1 }, 60)
        const key = c.key('message', [1])
        const raw = await store.get(key)
        assert.ok(raw !== null)
        const flipped = Buffer.from(raw)
        flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1
        await store.set(key, flipped, 60)
        assert.equal(await c.getJson('message', [1]), null)
        await store.set(key, raw.subarray(0, 10), 60)
        assert.equal(await c.getJson('message', [1]), null)
        await store.set(key, Buffer.alloc(0), 60)
        assert.equal(await c.getJson('message', [1]), null)
      } finally {
        await store.close()
      }
    })

    test('large compressible values are compressed and roundtrip', async () => {
      const store = await factory.make()
      try {
        const c = createSealedCache(store, secret).forAccount(`acct-${randomUUID()}`)
        const big = { items: Array.from({ length: 2000 }, (_, i) => ({ id: `m${i}`, subject: 'Weekly status report' })) }
        await c.setJson('list', ['INBOX'], big, 60)
        const raw = await store.get(c.key('list', ['INBOX']))
        assert.ok(raw !== null)
        assert.ok(raw.length < JSON.stringify(big).length / 3, `stored ${raw.length} bytes`)
        assert.deepEqual(await c.getJson('list', ['INBOX']), big)
        const noise = randomBytes(10_000)
        await c.setBuffer('raw', [1], noise, 60)
        assert.ok((await c.getBuffer('raw', [1]))?.equals(noise))
      } finally {
        await store.close()
      }
    })

    test('compression: small entries stay plain; inline and thread-pool (de)compression both roundtrip', async () => {
      const store = await factory.make()
      try {
        const c = createSealedCache(store, secret).forAccount(`acct-${randomUUID()}`)
        const flagsOf = async (parts: number[]): Promise<number | undefined> => (await store.get(c.key('raw', parts)))?.[1]
        const cases: Array<[string, Buffer, number]> = [
          ['under the threshold: stored plain', Buffer.alloc(COMPRESS_MIN_BYTES - 1, 'a'), 0],
          ['compressed inline', Buffer.alloc(64 * 1024, 'abc'), 1],
          // a few KiB of deflate that inflates far past the inline bound: the thread-pool path
          ['inflates past the inline bound', Buffer.alloc(8 * 1024 * 1024, 'z'), 1],
          ['compressed off the loop', Buffer.concat([Buffer.alloc(300 * 1024, 'x'), randomBytes(1024)]), 1],
        ]
        for (const [i, [what, value, flags]] of cases.entries()) {
          await c.setBuffer('raw', [i], value, 60)
          assert.equal(await flagsOf([i]), flags, `${what}: deflate flag`)
          assert.ok((await c.getBuffer('raw', [i]))?.equals(value), `${what}: roundtrip`)
        }
      } finally {
        await store.close()
      }
    })

    test('rememberJson: concurrent misses cause one load, then hits', async () => {
      const store = await factory.make()
      try {
        const c = createSealedCache(store, secret).forAccount(`acct-${randomUUID()}`)
        let loads = 0
        const load = async (): Promise<{ n: number }> => { loads++; await sleep(40); return { n: 7 } }
        const results = await Promise.all(Array.from({ length: 20 }, () => c.rememberJson('mailboxes', [], 60, load)))
        assert.equal(loads, 1)
        for (const r of results) assert.deepEqual(r, { n: 7 })
        assert.deepEqual(await c.rememberJson('mailboxes', [], 60, load), { n: 7 })
        assert.equal(loads, 1, 'served from cache')
        let failing = 0
        const bad = async (): Promise<number> => { failing++; await sleep(10); throw new Error('upstream') }
        const settled = await Promise.allSettled([1, 2, 3].map(() => c.rememberJson('count', [], 60, bad)))
        assert.equal(failing, 1)
        assert.ok(settled.every(s => s.status === 'rejected'))
        assert.equal(await c.rememberJson('count', [], 60, async () => 3), 3, 'error not cached')
      } finally {
        await store.close()
      }
    })
  })
}
