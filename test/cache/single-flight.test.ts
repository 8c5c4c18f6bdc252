import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { singleFlight } from '../../src/cache/single-flight.ts'

describe('singleFlight', () => {
  test('N concurrent calls for one key run fn once and share the result', async () => {
    const flight = singleFlight<string, number>()
    let calls = 0
    const fn = async (): Promise<number> => { calls++; await sleep(30); return 42 }
    const results = await Promise.all(Array.from({ length: 25 }, () => flight('k', fn)))
    assert.equal(calls, 1)
    assert.deepEqual(results, Array(25).fill(42))
    assert.equal(flight.inFlight(), 0)
  })

  test('different keys run independently', async () => {
    const flight = singleFlight<string, string>()
    const seen: string[] = []
    const fn = (k: string) => async (): Promise<string> => { seen.push(k); await sleep(10); return k.toUpperCase() }
    const [a, b] = await Promise.all([flight('a', fn('a')), flight('b', fn('b')), flight('a', fn('a'))])
    assert.equal(a, 'A')
    assert.equal(b, 'B')
    assert.deepEqual(seen.sort(), ['a', 'b'])
  })

  test('an error is shared by concurrent callers but not cached: the next call retries', async () => {
    const flight = singleFlight<string, string>()
    let calls = 0
    const failing = async (): Promise<string> => { calls++; await sleep(20); throw new Error('upstream down') }
    const settled = await Promise.allSettled(Array.from({ length: 10 }, () => flight('k', failing)))
    assert.equal(calls, 1)
    for (const s of settled) {
      assert.equal(s.status, 'rejected')
      assert.equal((s as PromiseRejectedResult).reason.message, 'upstream down')
    }
    const ok = await flight('k', async () => { calls++; return 'recovered' })
    assert.equal(ok, 'recovered')
    assert.equal(calls, 2)
  })

  test('a synchronous throw is delivered as a rejection', async () => {
    const flight = singleFlight<string, string>()
    await assert.rejects(flight('k', () => { throw new Error('sync') }), /sync/)
    assert.equal(flight.inFlight(), 0)
  })

  test('a call after the previous one settled runs fn again (results are not cached)', async () => {
    const flight = singleFlight<string, number>()
    let n = 0
    assert.equal(await flight('k', async () => ++n), 1)
    assert.equal(await flight('k', async () => ++n), 2)
  })
})
