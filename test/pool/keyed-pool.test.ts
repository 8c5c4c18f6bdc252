import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { KeyedPool, PoolClosedError, PoolTimeoutError } from '../../src/pool/index.ts'
import { waitFor } from '../env/wait.ts'
import type { PoolOptions } from '../../src/pool/index.ts'

interface Fake { id: number, key: string, alive: boolean }

/** A pool of fake resources that records what it was asked to do. */
function fakePool (over: Partial<PoolOptions<string, Fake>> & { createDelayMs?: number, fail?: (spec: string) => Error | null } = {}) {
  const log = { created: [] as Fake[], destroyed: [] as Fake[], live: 0, maxLive: 0, createCalls: 0 }
  let next = 1
  const pool = new KeyedPool<string, Fake>({
    create: async (spec, key) => {
      log.createCalls++
      await sleep(over.createDelayMs ?? 5)
      const err = over.fail?.(spec) ?? null
      if (err !== null) throw err
      const r = { id: next++, key, alive: true }
      log.created.push(r)
      log.live++
      log.maxLive = Math.max(log.maxLive, log.live)
      return r
    },
    destroy: async (r) => {
      await sleep(2)
      r.alive = false
      log.live--
      log.destroyed.push(r)
    },
    maxPerGroup: 3,
    maxTotal: 100,
    idleMs: 10_000,
    acquireTimeoutMs: 2_000,
    ...over,
  })
  return { pool, log }
}

test('sequential acquires on one key reuse one resource', async () => {
  const { pool, log } = fakePool()
  for (let i = 0; i < 20; i++) {
    const lease = await pool.acquire('k1', 'acct', 's')
    lease.release()
  }
  assert.equal(log.createCalls, 1)
  await pool.close()
  assert.equal(log.destroyed.length, 1)
})

test('a group never holds more than maxPerGroup resources; waiters are served', async () => {
  const { pool, log } = fakePool()
  const order: number[] = []
  const jobs = Array.from({ length: 12 }, async (_, i) => {
    const lease = await pool.acquire('k1', 'acct', 's')
    order.push(i)
    await sleep(10)
    lease.release()
  })
  await Promise.all(jobs)
  assert.equal(log.maxLive, 3)
  assert.equal(log.created.length, 3)
  assert.equal(order.length, 12)
  await pool.close()
})

test('waiters of one key are served in arrival order', async () => {
  const { pool } = fakePool({ maxPerGroup: 1 })
  const first = await pool.acquire('k1', 'acct', 's')
  const order: number[] = []
  const waiting = [1, 2, 3, 4].map(async (i) => {
    const lease = await pool.acquire('k1', 'acct', 's')
    order.push(i)
    await sleep(2)
    lease.release()
  })
  await sleep(20)
  first.release()
  await Promise.all(waiting)
  assert.deepEqual(order, [1, 2, 3, 4])
  await pool.close()
})

test('the global cap holds across groups, evicting idle resources of other groups', async () => {
  const { pool, log } = fakePool({ maxTotal: 2 })
  const a = await pool.acquire('ka', 'A', 's')
  const b = await pool.acquire('kb', 'B', 's')
  a.release()
  const c = await pool.acquire('kc', 'C', 's')
  assert.equal(log.maxLive, 2)
  assert.equal(log.destroyed[0]?.key, 'ka')
  b.release()
  c.release()
  await pool.close()
})

test('acquire times out with PoolTimeoutError when everything stays busy', async () => {
  const { pool } = fakePool({ maxPerGroup: 1 })
  const held = await pool.acquire('k1', 'acct', 's')
  await assert.rejects(pool.acquire('k1', 'acct', 's', { timeoutMs: 50 }), PoolTimeoutError)
  held.release()
  const again = await pool.acquire('k1', 'acct', 's', { timeoutMs: 50 })
  again.release()
  await pool.close()
})

test('two keys of one group never share a resource but share the cap', async () => {
  const { pool, log } = fakePool({ maxPerGroup: 2 })
  const a = await pool.acquire('pw1', 'acct', 's')
  a.release()
  const b = await pool.acquire('pw2', 'acct', 's')
  assert.notEqual(b.resource.id, a.resource.id)
  assert.equal(b.resource.key, 'pw2')
  const c = await pool.acquire('pw2', 'acct', 's')
  assert.equal(log.maxLive, 2)
  assert.equal(log.destroyed.length, 1, 'the idle pw1 resource made room for the second pw2 one')
  b.release()
  c.release()
  await pool.close()
})

test('a rejected first create is shared by a burst and remembered for a while', async () => {
  const denied = Object.assign(new Error('denied'), { denied: true })
  const { pool, log } = fakePool({
    fail: spec => spec === 'bad' ? denied : null,
    failureTtlMs: err => (err as { denied?: boolean }).denied === true ? 100 : 0,
    createDelayMs: 20,
  })
  const results = await Promise.allSettled(Array.from({ length: 10 }, () => pool.acquire('k-bad', 'acct', 'bad')))
  assert.equal(log.createCalls, 1)
  for (const r of results) assert.equal(r.status === 'rejected' && r.reason, denied)
  await assert.rejects(pool.acquire('k-bad', 'acct', 'bad'), (e) => e === denied)
  assert.equal(log.createCalls, 1, 'negative cache answered without a create')
  await sleep(120)
  await assert.rejects(pool.acquire('k-bad', 'acct', 'bad'), (e) => e === denied)
  assert.equal(log.createCalls, 2, 'retried after the ttl')
  await pool.close()
})

test('a transient first-create failure is shared by the burst but not remembered', async () => {
  let failing = true
  const { pool, log } = fakePool({ fail: () => failing ? new Error('refused') : null })
  const results = await Promise.allSettled(Array.from({ length: 5 }, () => pool.acquire('k1', 'acct', 's')))
  assert.equal(log.createCalls, 1)
  assert.ok(results.every(r => r.status === 'rejected'))
  failing = false
  const lease = await pool.acquire('k1', 'acct', 's')
  lease.release()
  assert.equal(log.createCalls, 2)
  await pool.close()
})

test('idle resources are destroyed after idleMs', async () => {
  const { pool, log } = fakePool({ idleMs: 30 })
  const lease = await pool.acquire('k1', 'acct', 's')
  lease.release()
  assert.equal(pool.stats().idle, 1)
  // waits for the idle timer's effect, not a duration: a loaded machine fires timers late
  await waitFor(() => log.destroyed.length === 1, 10_000, 'the idle resource destroyed')
  assert.equal(pool.stats().total, 0)
  await pool.close()
})

test('validate sees the idle time; a resource failing it is replaced', async () => {
  const seen: number[] = []
  const { pool, log } = fakePool({
    validate: (r, idleFor) => { seen.push(idleFor); return r.alive },
  })
  const a = await pool.acquire('k1', 'acct', 's')
  a.release()
  await sleep(30)
  a.resource.alive = false
  const b = await pool.acquire('k1', 'acct', 's')
  assert.ok((seen[0] ?? 0) >= 25)
  assert.notEqual(b.resource.id, a.resource.id)
  assert.deepEqual(log.destroyed.map(r => r.id), [a.resource.id])
  b.release()
  await pool.close()
})

test('discard: an idle resource goes at once, a lent one when it comes back', async () => {
  const { pool, log } = fakePool()
  const a = await pool.acquire('k1', 'acct', 's')
  const b = await pool.acquire('k1', 'acct', 's')
  b.release()
  pool.discard(b.resource)
  pool.discard(a.resource)
  await sleep(10)
  assert.deepEqual(log.destroyed.map(r => r.id), [b.resource.id])
  a.release()
  await sleep(10)
  assert.equal(log.destroyed.length, 2)
  assert.equal(pool.stats().total, 0)
  await pool.close()
})

test('fresh acquire never takes an idle resource', async () => {
  const { pool, log } = fakePool({ maxPerGroup: 1 })
  const a = await pool.acquire('k1', 'acct', 's')
  a.release()
  const b = await pool.acquire('k1', 'acct', 's', { fresh: true })
  assert.notEqual(b.resource.id, a.resource.id)
  assert.deepEqual(log.destroyed.map(r => r.id), [a.resource.id])
  assert.equal(log.maxLive, 1, 'the old one was closed before the new one opened')
  b.release()
  await pool.close()
})

test('drain closes the resources of one key only', async () => {
  const { pool, log } = fakePool()
  const a1 = await pool.acquire('k1', 'acct', 's')
  const a2 = await pool.acquire('k1', 'acct', 's')
  const other = await pool.acquire('k2', 'acct2', 's')
  a1.release()
  other.release()
  await pool.drain('k1')
  assert.deepEqual(log.destroyed.map(r => r.id), [a1.resource.id])
  a2.release()
  await sleep(10)
  assert.deepEqual(log.destroyed.map(r => r.id).sort(), [a1.resource.id, a2.resource.id].sort())
  const again = await pool.acquire('k2', 'acct2', 's')
  assert.equal(again.resource.id, other.resource.id)
  again.release()
  await pool.close()
})

test('a lease is released once; destroy after release is ignored', async () => {
  const { pool, log } = fakePool()
  const a = await pool.acquire('k1', 'acct', 's')
  a.release()
  a.release()
  a.destroy()
  const b = await pool.acquire('k1', 'acct', 's')
  assert.equal(b.resource.id, a.resource.id)
  assert.equal(log.destroyed.length, 0)
  b.destroy()
  await sleep(10)
  assert.equal(log.destroyed.length, 1)
  await pool.close()
})

test('close rejects waiters, destroys idle resources and refuses new acquires', async () => {
  const { pool, log } = fakePool({ maxPerGroup: 1 })
  const a = await pool.acquire('k1', 'acct', 's')
  const waiting = pool.acquire('k1', 'acct', 's')
  const closing = pool.close()
  await assert.rejects(waiting, PoolClosedError)
  a.release()
  await closing
  await sleep(10)
  assert.equal(log.destroyed.length, 1)
  await assert.rejects(pool.acquire('k1', 'acct', 's'), PoolClosedError)
})

test('a create that finishes after its waiter gave up serves the next waiter', async () => {
  const { pool, log } = fakePool({ createDelayMs: 60 })
  await assert.rejects(pool.acquire('k1', 'acct', 's', { timeoutMs: 10 }), PoolTimeoutError)
  const lease = await pool.acquire('k1', 'acct', 's')
  assert.equal(log.createCalls, 1)
  lease.release()
  await pool.close()
})

test('waiters held back behind a key\'s first create get their own resources once it succeeds', async () => {
  const { pool, log } = fakePool({ createDelayMs: 20 })
  // three at once on a fresh key: the first creates alone, the others wait for its verdict;
  // none is released during the test, like three long downloads
  const [first, a, b] = await Promise.race([
    Promise.all([pool.acquire('k1', 'acct', 's'), pool.acquire('k1', 'acct', 's'), pool.acquire('k1', 'acct', 's')]),
    sleep(500).then(() => { throw new Error('waiters were not woken after the first create') }),
  ])
  assert.equal(log.createCalls, 3)
  a.release()
  b.release()
  first.release()
  await pool.close()
})
