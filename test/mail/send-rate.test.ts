/**
 * The send-rate port's answers (src/mail/send-rate.ts): a count that cannot be
 * taken refuses the send (503 unavailable, Retry-After), a count over the limit
 * is 429 with the wait, and the in-process count holds `perMinute` per account.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isGatewayError } from '../../src/mail/errors.ts'
import { localSendRate, takeSendRate, type SendRateLimit } from '../../src/mail/send-rate.ts'
import { AttemptBuckets } from '../../src/util/attempt-buckets.ts'

test('a count that cannot be taken refuses the send: 503 unavailable, Retry-After 1', async () => {
  const down: SendRateLimit = { take: async () => { throw new Error('redis unreachable') } }
  await assert.rejects(takeSendRate(down, 'acct', 3), (err: unknown) => {
    assert.ok(isGatewayError(err))
    assert.equal(err.code, 'unavailable')
    assert.equal(err.retryAfter, 1)
    return true
  })
})

test('over the limit: 429 rate-limited with the wait in seconds', async () => {
  const full: SendRateLimit = { take: async () => 17 }
  await assert.rejects(takeSendRate(full, 'acct', 3), (err: unknown) => {
    assert.ok(isGatewayError(err))
    assert.equal(err.code, 'rate-limited')
    assert.equal(err.retryAfter, 17)
    return true
  })
})

test('in process: perMinute sends per account, then a wait; other accounts unaffected', async () => {
  const rate = localSendRate(new AttemptBuckets(), 2)
  assert.equal(await rate.take('a'), 0)
  assert.equal(await rate.take('a'), 0)
  assert.ok(await rate.take('a') > 0)
  assert.equal(await rate.take('b'), 0)
})
