import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ByteBudget } from '../../src/util/byte-budget.ts'

/** Settles pending promise callbacks (grants resolve through microtasks). */
const ticks = async (): Promise<void> => { for (let i = 0; i < 5; i++) await Promise.resolve() }

function track (p: Promise<unknown>): { done: boolean } {
  const state = { done: false }
  p.then(() => { state.done = true }, () => {})
  return state
}

/** One group may hold everything: the queueing rules alone. */
const whole = (capacity: number): ByteBudget => new ByteBudget(capacity, { groupShare: 1 })

test('grants within the capacity at once, queues the rest first come first served', async () => {
  const budget = whole(100)
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
  const budget = whole(100)
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

test('one group holds at most its share; other groups pass its waiters', async () => {
  const budget = new ByteBudget(100) // share: 25
  assert.equal(budget.share, 25)
  const a1 = budget.permit('a')
  await a1.acquire(20)
  const a2 = budget.permit('a')
  const a2Got = track(a2.acquire(10)) // 30 > 25: waits for a1
  const b = budget.permit('b')
  const bGot = track(b.acquire(25))
  await ticks()
  assert.deepEqual([a2Got.done, bGot.done], [false, true], 'a waits for its own share, b does not wait behind it')
  a1.release()
  await ticks()
  assert.equal(a2Got.done, true)
  a2.release()
  b.release()
  assert.deepEqual(budget.stats(), { capacity: 100, available: 100, waiting: 0 })
})

test('a request over the share is charged in full: it waits until its group holds nothing, then runs alone in it', async () => {
  const budget = new ByteBudget(100) // share: 25
  const small = budget.permit('a')
  await small.acquire(5)
  const big = budget.permit('a')
  const bigGot = track(big.acquire(80))
  await ticks()
  assert.equal(bigGot.done, false, 'its group holds something')
  small.release()
  await ticks()
  assert.equal(bigGot.done, true)
  assert.equal(budget.stats().available, 20, 'charged 80, not the share')
  const next = budget.permit('a')
  const nextGot = track(next.acquire(1))
  const other = budget.permit('b')
  const otherGot = track(other.acquire(20))
  await ticks()
  assert.deepEqual([nextGot.done, otherGot.done], [false, true], 'its group waits; another group takes what is left')
  big.release()
  other.release()
  await ticks()
  assert.equal(nextGot.done, true)
  next.release()
  assert.deepEqual(budget.stats(), { capacity: 100, available: 100, waiting: 0 })
})

test('released while waiting: it leaves the queue at once, the ones behind it go on, its acquire ends', async () => {
  const budget = whole(100)
  const hog = budget.permit()
  await hog.acquire(90)
  const head = budget.permit()
  const headGot = track(head.acquire(50)) // blocks the queue: only 10 free
  const behind = budget.permit()
  const behindGot = track(behind.acquire(10))
  await ticks()
  assert.deepEqual([headGot.done, behindGot.done], [false, false])
  head.release() // e.g. its request timed out
  await ticks()
  assert.equal(headGot.done, true, 'the abandoned acquire resolves instead of hanging')
  assert.equal(behindGot.done, true, 'the waiter behind no longer waits for it')
  hog.release()
  behind.release()
  assert.deepEqual(budget.stats(), { capacity: 100, available: 100, waiting: 0 })
})

test('reset gives back what is held for a retry; asked again, a permit gives back before it waits', async () => {
  const budget = whole(100)
  const p = budget.permit()
  await p.acquire(0)
  assert.equal(budget.stats().available, 99, 'sizes are clamped to at least 1')
  // a retry asking for the whole budget while holding 1 byte would wait for itself
  await p.acquire(100)
  assert.equal(budget.stats().available, 0)
  p.reset()
  assert.equal(budget.stats().available, 100)
  await p.acquire(Number.NaN)
  assert.equal(budget.stats().available, 0, 'an unknown size asks for everything')
  p.release()
  p.release()
  assert.equal(budget.stats().available, 100, 'a second release gives nothing back twice')
  assert.throws(() => new ByteBudget(0), RangeError)
})

test('tryAcquire takes only what is free now, never ahead of an earlier waiter; refused, it holds nothing', async () => {
  const budget = whole(100)
  const hog = budget.permit()
  await hog.acquire(70)
  const p = budget.permit()
  assert.equal(p.tryAcquire(20), true)
  assert.equal(p.covers(20), true)
  assert.equal(p.covers(21), false)
  assert.equal(budget.stats().available, 10)
  // asked again it gives back first: 40 > 30 free, so it ends holding nothing
  assert.equal(p.tryAcquire(40), false)
  assert.equal(p.covers(1), false)
  assert.deepEqual(budget.stats(), { capacity: 100, available: 30, waiting: 0 })
  const head = budget.permit()
  const headGot = track(head.acquire(50))
  await ticks()
  assert.equal(p.tryAcquire(5), false, '5 would fit, but a waiter asked first')
  hog.release()
  await ticks()
  assert.equal(headGot.done, true)
  assert.equal(p.tryAcquire(5), true)
  head.release()
  p.release()
  assert.equal(p.tryAcquire(1), false, 'a released permit takes nothing')
  assert.deepEqual(budget.stats(), { capacity: 100, available: 100, waiting: 0 })
})

test('a wait is bounded: past maxWaitMs acquire answers false holding nothing, and the ones behind go on', async () => {
  const budget = new ByteBudget(100, { groupShare: 1, maxWaitMs: 50 })
  const hog = budget.permit()
  await hog.acquire(90)
  const head = budget.permit()
  const started = Date.now()
  const headGot = head.acquire(50)
  const behind = budget.permit()
  const behindGot = track(behind.acquire(10))
  await ticks()
  assert.equal(behindGot.done, false, 'it waits behind the head')
  assert.equal(await headGot, false)
  assert.ok(Date.now() - started >= 45, 'not before the bound')
  await ticks()
  assert.equal(behindGot.done, true, 'the one behind is granted once the head gives up')
  assert.equal(head.covers(1), false)
  assert.equal(await head.acquire(10), false, 'the bound applies to every wait: still 0 free')
  hog.release()
  behind.release()
  assert.equal(await head.acquire(10), true, 'granted at once when free')
  head.release()
  assert.deepEqual(budget.stats(), { capacity: 100, available: 100, waiting: 0 })
  // a bound setTimeout cannot keep (it would fire at once) is no bound
  assert.equal(new ByteBudget(100, { maxWaitMs: 2 ** 31 }).maxWaitMs, Infinity)
  assert.equal(new ByteBudget(100, { maxWaitMs: 2 ** 31 - 1 }).maxWaitMs, 2 ** 31 - 1)
})
