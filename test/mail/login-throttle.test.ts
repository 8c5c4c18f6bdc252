// The login throttle's policy over in-memory token buckets, on a fake clock.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { GatewayError } from '../../src/mail/errors.ts'
import { LoginThrottle } from '../../src/mail/login-throttle.ts'
import type { ConnectionSettings } from '../../src/mail/types.ts'
import { AttemptBuckets } from '../../src/util/attempt-buckets.ts'

const account = (username: string, host = 'mail.example'): ConnectionSettings => ({ protocol: 'imap', host, port: 993, security: 'tls', username, password: 'p' })
const fail = async (): Promise<never> => { throw new GatewayError('auth-failed') }
const ok = async (): Promise<string> => 'in'

function setup (limits = { perClient: 4, perAccount: 2, windowMs: 60_000 }) {
  const clock = { now: 1_000_000 }
  const throttle = new LoginThrottle(new AttemptBuckets(() => clock.now), limits)
  return { clock, throttle }
}

async function code (p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'ok'
  } catch (err) {
    return err instanceof GatewayError ? `${err.code}${err.retryAfter === undefined ? '' : `:${err.retryAfter}`}` : String(err)
  }
}

test('failed attempts use up the account budget; it refills at limit per window', async () => {
  const { clock, throttle } = setup()
  assert.equal(await code(throttle.attempt('c1', account('u'), fail)), 'auth-failed')
  assert.equal(await code(throttle.attempt('c2', account('U'), fail)), 'auth-failed')
  // two per minute: the next attempt waits 30 s for one, whoever asks and however the name is cased
  assert.equal(await code(throttle.attempt('c3', account('u'), ok)), 'rate-limited:30')
  clock.now += 29_000
  assert.equal(await code(throttle.attempt('c3', account('u'), ok)), 'rate-limited:1')
  clock.now += 1_000
  assert.equal(await code(throttle.attempt('c3', account('u'), ok)), 'ok')
  // another account at the same host has its own budget
  assert.equal(await code(throttle.attempt('c3', account('v'), ok)), 'ok')
})

test('a successful login gives its attempt back; attempts in flight count', async () => {
  const { throttle } = setup()
  for (let i = 0; i < 10; i++) assert.equal(await code(throttle.attempt('c', account('u'), ok)), 'ok')
  // two attempts in flight fill the account's budget of two, until they end
  const finish: Array<() => void> = []
  const slow = (): Promise<string> => new Promise<string>(resolve => { finish.push(() => resolve('late')) })
  const pending = [throttle.attempt('c', account('w'), slow), throttle.attempt('c', account('w'), slow)]
  assert.equal(await code(throttle.attempt('c', account('w'), ok)), 'rate-limited:30')
  finish.forEach(f => f())
  assert.deepEqual(await Promise.all(pending), ['late', 'late'])
  assert.equal(await code(throttle.attempt('c', account('w'), ok)), 'ok')
})

test('the client budget spans accounts; 0 turns a key off', async () => {
  const { throttle } = setup()
  for (let i = 0; i < 4; i++) assert.equal(await code(throttle.attempt('c', account(`u${i}`), fail)), 'auth-failed')
  assert.equal(await code(throttle.attempt('c', account('fresh'), ok)), 'rate-limited:15')
  assert.equal(await code(throttle.attempt('d', account('fresh'), ok)), 'ok')
  const off = setup({ perClient: 0, perAccount: 0, windowMs: 60_000 }).throttle
  for (let i = 0; i < 10; i++) assert.equal(await code(off.attempt('c', account('u'), fail)), 'auth-failed')
})
