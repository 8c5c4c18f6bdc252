import assert from 'node:assert/strict'
import { test } from 'node:test'
import { FixedWindowLimiter } from '../../src/http/rate-limit.ts'
import { auth, setup } from './helpers.ts'

test('rate limiting is off unless RATE_LIMIT_PER_MINUTE is set', async (t) => {
  const { app } = await setup(t)
  for (let i = 0; i < 30; i++) assert.equal((await app.inject({ url: '/v1/account', headers: auth })).statusCode, 200)
})

test('over the limit → 429 rate-limited with Retry-After; probes are exempt', async (t) => {
  const { app } = await setup(t, { RATE_LIMIT_PER_MINUTE: '3' })
  for (let i = 0; i < 3; i++) assert.equal((await app.inject({ url: '/v1/account', headers: auth })).statusCode, 200)
  const res = await app.inject({ url: '/v1/account', headers: auth })
  assert.equal(res.statusCode, 429)
  assert.equal(res.json().code, 'rate-limited')
  const retry = Number(res.headers['retry-after'])
  assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`)
  assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200)
  assert.equal((await app.inject({ url: '/readyz' })).statusCode, 200)
})

test('FixedWindowLimiter: per key, resets after a minute', () => {
  let now = 1_000_000
  const limiter = new FixedWindowLimiter(2, () => now)
  assert.equal(limiter.hit('a'), 0)
  assert.equal(limiter.hit('a'), 0)
  assert.equal(limiter.hit('b'), 0)
  now += 15_000
  assert.equal(limiter.hit('a'), 45)
  now += 45_000
  assert.equal(limiter.hit('a'), 0)
})

test('a made-up bearer token per request does not buy a fresh window', async (t) => {
  const { app } = await setup(t, { RATE_LIMIT_PER_MINUTE: '3' })
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) {
    const res = await app.inject({ method: 'POST', url: '/v1/sessions', headers: { authorization: `Bearer forged-${i}` }, payload: { protocol: 'imap', host: 'mail.example.com', username: 'u', password: 'p' } })
    statuses.push(res.statusCode)
  }
  assert.deepEqual(statuses.slice(3), [429, 429])
})

test('GraphQL over the limit → rate-limited with Retry-After too', async (t) => {
  const { app } = await setup(t, { RATE_LIMIT_PER_MINUTE: '2' })
  const ask = () => app.inject({ method: 'POST', url: '/graphql', headers: auth, payload: { query: '{ account { id } }' } })
  for (let i = 0; i < 2; i++) assert.equal((await ask()).statusCode, 200)
  const res = await ask()
  assert.equal(res.statusCode, 429)
  assert.equal(res.json().errors[0].extensions.code, 'rate-limited')
  const retry = Number(res.headers['retry-after'])
  assert.ok(retry >= 1 && retry <= 60, `Retry-After ${String(res.headers['retry-after'])}`)
})
