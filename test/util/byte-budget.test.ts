import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ByteBudget } from '../../src/util/byte-budget.ts'

/** Settles pending promise callbacks (grants resolve through microtasks). */
const ticks = async (): Promise<void> => { for (let i = 0; i < 5; i++) await Promise.resolve() }

function track (p: Promise<void>): { done: boolean } {
  const state = { done: false }
  p.then(() => { state.done = true }, () => {})
  return state
}

test('grants within the capacity at once, queues the rest first come first served', async () => {
  const budget = new ByteBudget(100)
  const a = budget.permit()
  await a.acquire(60)
  assert.deepEqual(budget.stats(), { capacity: 100, available: 40, waiting: 0 })
  const b = budget.permit()
  const c = budget.permit()
  const bGot = track(b.acquire(50))
  // c would fit (10 ≤ 40) but b asked first: it waits behind b, so b is never starved
  const cGot = track(c.acquire(10))
  await ticks()
  assert.deepEqual([bGot.done, cGot.done], [false, false])
  assert.equal(budget.stats().waiting, 2)
  a.release()
  await ticks()
  assert.deepEqual([bGot.done, cGot.done], [true, true])
  assert.equal(budget.stats().available, 40)
  b.release()
  c.release()
  assert.deepEqual(budget.stats(), { capacity: 100, available: 100, waiting: 0 })
})

test('a request over the capacity gets the whole budget, alone', async () => {
  const budget = new ByteBudget(100)
  const big = budget.permit()
  await big.acquire(10_000)
  assert.equal(budget.stats().available, 0)
  const small = budget.permit()
  const got = track(small.acquire(1))
  await ticks()
  assert.equal(got.done, false)
  big.release()
  await ticks()
  assert.equal(got.done, true)
  small.release()
  assert.equal(budget.stats().available, 100)
})

test('released while waiting: the late grant goes straight back, nothing leaks', async () => {
  const budget = new ByteBudget(100)
  const hog = budget.permit()
  await hog.acquire(100)
  const waiter = budget.permit()
  const got = track(waiter.acquire(30))
  waiter.release() // e.g. its request timed out
  hog.release()
  await ticks()
  assert.equal(got.done, true)
  assert.deepEqual(budget.stats(), { capacity: 100, available: 100, waiting: 0 })
  waiter.release()
  assert.equal(budget.stats().available, 100, 'a second release gives nothing back twice')
})

test('asked again, a permit gives back what it holds before it waits; sizes are clamped to 1…capacity', async () => {
  const budget = new ByteBudget(100)
  const p = budget.permit()
  await p.acquire(0)
  assert.equal(budget.stats().available, 99)
  // a retry asking for the whole budget while holding 1 byte would wait for itself
  await p.acquire(100)
  assert.equal(budget.stats().available, 0)
  p.release()
  const q = budget.permit()
  await q.acquire(Number.NaN)
  assert.equal(budget.stats().available, 0)
  q.release()
  assert.throws(() => new ByteBudget(0), RangeError)
})
