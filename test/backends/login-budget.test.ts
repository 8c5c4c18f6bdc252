// The login budget's counting: per client, per host and in total, FIFO waits
// that do not block later attempts that fit, bounded by waitMs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LoginBudget } from '../../src/backends/login-budget.ts'
import { GatewayError } from '../../src/mail/errors.ts'

const limited = (e: unknown): boolean => e instanceof GatewayError && e.code === 'rate-limited' && e.retryAfter === 1

test('each of the three caps holds, and a release lets a waiter in', async () => {
  const budget = new LoginBudget({ perClient: 2, perHost: 3, total: 4, waitMs: 1000 })
  const a1 = await budget.enter('a', 'h1')
  await budget.enter('a', 'h2')
  let third = false
  const waiting = budget.enter('a', 'h3').then(r => { third = true; return r })
  // a later attempt of another client fits and is not held behind the waiter
  await budget.enter('b', 'H1')
  await budget.enter('c', 'h1')
  assert.deepEqual(budget.stats(), { inFlight: 4, waiting: 1 })
  // h1 has 3 (host names compare case-insensitively), the total is 4
  const overHost = budget.enter('d', 'h1')
  assert.equal(third, false)
  a1()
  a1() // idempotent
  await waiting
  assert.equal(third, true)
  assert.deepEqual(budget.stats(), { inFlight: 4, waiting: 1 })
  overHost.catch(() => {})
})

test('a wait past waitMs is 429 rate-limited with Retry-After', async () => {
  const budget = new LoginBudget({ perClient: 1, perHost: 10, total: 10, waitMs: 30 })
  const release = await budget.enter('a', 'h')
  await assert.rejects(budget.enter('a', 'h'), limited)
  assert.deepEqual(budget.stats(), { inFlight: 1, waiting: 0 })
  release()
  assert.deepEqual(budget.stats(), { inFlight: 0, waiting: 0 })
  assert.equal(await budget.run('a', 'h', async () => 7), 7)
})
