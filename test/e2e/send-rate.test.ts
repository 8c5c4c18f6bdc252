/**
 * SEND_RATE_PER_MINUTE is one budget per account for the deployment: two
 * gateway instances sharing a Redis (and the harness's Redis Cluster) accept
 * exactly the limit between them, counted by the SMTP server (a scripted
 * one) that received the messages; the counter is the account's hash-tagged
 * key. With its Redis gone a send is refused 503, and nothing reaches SMTP.
 * A 429 keeps no Idempotency-Key record (REST or GraphQL): the retry runs.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { sendRateKey } from '../../src/cache/redis-send-rate.ts'
import { adminClient } from '../cache/helpers.ts'
import { startRedis, type RedisEnv } from '../env/redis.ts'
import { testEnv, testRedisCluster } from '../env/shared.ts'
import { startFakeSmtp, type FakeSmtp } from './fake-smtp.ts'
import { startGateway, type Gateway } from './gateway.ts'

const LIMIT = 3
const EXTRA = 3

/** Polls /readyz until the instance's Redis connection is up (a state, not a duration). */
async function cacheReady (gw: Gateway): Promise<void> {
  const deadline = Date.now() + 30_000
  while ((await gw.app.inject({ method: 'GET', url: '/readyz' })).json<{ cache: { status: string } }>().cache.status !== 'ok') {
    if (Date.now() > deadline) throw new Error('the gateway\'s Redis never became ready')
    await sleep(50)
  }
}

async function counter (url: string, key: string): Promise<number> {
  const client = await adminClient(url)
  try {
    return Number(await client.get(key))
  } finally {
    client.disconnect()
  }
}

for (const kind of ['redis', 'redis-cluster'] as const) {
  describe(`SEND_RATE_PER_MINUTE across two instances (${kind})`, { timeout: 120_000 }, () => {
    let gws: Gateway[] = []
    let fake: FakeSmtp
    let url: string

    before(async () => {
      url = kind === 'redis' ? (await testEnv()).redis.url : (await testRedisCluster()).url
      fake = await startFakeSmtp()
      gws = await Promise.all([0, 1].map(async () => await startGateway({ env: { REDIS_URL: url, SEND_RATE_PER_MINUTE: String(LIMIT) } })))
      // as a deployment routes traffic: once each instance's Redis connection is up (the count fails closed before)
      for (const gw of gws) await cacheReady(gw)
    })
    after(async () => { await Promise.all(gws.map(async (g) => { await g.close() })); await fake?.close() })

    it(`limit ${LIMIT}, two instances: exactly ${LIMIT} sends accepted in total`, async () => {
      const [a, b] = gws as [Gateway, Gateway]
      const user = await a.env.dovecot.createUser('sendrate')
      const { token, account } = await a.login(user, { smtp: { host: '127.0.0.1', port: fake.port, security: 'none' } })
      const before = fake.messages.length
      const answers = []
      for (let i = 0; i < LIMIT + EXTRA; i++) {
        const payload = { from: { email: 'a@example.test' }, to: [{ email: 'b@example.test' }], subject: `rate ${i}`, text: 'x', saveToSent: false }
        answers.push(await (i % 2 === 0 ? a : b).app.inject({ method: 'POST', url: '/v1/messages/send', headers: { authorization: `Bearer ${token}` }, payload }))
      }
      const statuses = answers.map(r => r.statusCode)
      assert.deepEqual(statuses, [...new Array(LIMIT).fill(200), ...new Array(EXTRA).fill(429)], answers.map(r => r.body).join('\n'))
      for (const r of answers.slice(LIMIT)) {
        assert.equal((r.json() as { code: string }).code, 'rate-limited')
        const retry = Number(r.headers['retry-after'])
        assert.ok(retry >= 1 && retry <= 60, `Retry-After ${String(r.headers['retry-after'])}`)
      }
      assert.equal(fake.messages.length - before, LIMIT, 'messages the SMTP server received')
      // one counter for the account, under its hash tag (one Cluster slot), no account id in clear
      const key = sendRateKey(a.config.secret, account.id)
      assert.match(key, /^mg:v1:\{[A-Za-z0-9_-]+\}:send-rate:/)
      assert.ok(!key.includes(user.username))
      assert.equal(await counter(url, key), LIMIT + EXTRA)
    })
  })
}

describe('SEND_RATE_PER_MINUTE with its Redis unreachable', { timeout: 120_000 }, () => {
  let gw: Gateway
  let fake: FakeSmtp
  let redis: RedisEnv

  before(async () => {
    redis = await startRedis()
    fake = await startFakeSmtp()
    gw = await startGateway({ env: { REDIS_URL: redis.url, SEND_RATE_PER_MINUTE: String(LIMIT) } })
  })
  after(async () => { await gw?.close(); await fake?.close(); await redis?.stop() })

  it('fails closed: 503 unavailable with Retry-After, nothing submitted', async () => {
    const user = await gw.env.dovecot.createUser('sendrate-down')
    const { token } = await gw.login(user, { smtp: { host: '127.0.0.1', port: fake.port, security: 'none' } })
    await redis.kill()
    const before = fake.dataCount()
    const payload = { to: [{ email: 'b@example.test' }], from: { email: 'a@example.test' }, text: 'x', saveToSent: false }
    const res = await gw.app.inject({ method: 'POST', url: '/v1/messages/send', headers: { authorization: `Bearer ${token}` }, payload })
    assert.equal(res.statusCode, 503, res.body)
    assert.equal((res.json() as { code: string }).code, 'unavailable')
    // the send rate's own refusal says 1 s; the token check, also failing closed once its copy of the
    // revocations is more than 1 s unconfirmed, may refuse first (2 s): either way nothing is sent
    assert.ok(Number(res.headers['retry-after']) >= 1, `Retry-After ${String(res.headers['retry-after'])}`)
    assert.equal(fake.dataCount(), before, 'no DATA reached the SMTP server')
  })
})

describe('a send refused 429 keeps no idempotency record', { timeout: 120_000 }, () => {
  let gw: Gateway
  let fake: FakeSmtp

  before(async () => {
    fake = await startFakeSmtp()
    gw = await startGateway({ env: { SEND_RATE_PER_MINUTE: '1' } })
  })
  after(async () => { await gw?.close(); await fake?.close() })

  it('REST Idempotency-Key and GraphQL idempotencyKey are free again after a 429', async () => {
    const user = await gw.env.dovecot.createUser('sendrate-key')
    const { token, account } = await gw.login(user, { smtp: { host: '127.0.0.1', port: fake.port, security: 'none' } })
    const payload = { from: { email: 'a@example.test' }, to: [{ email: 'b@example.test' }], text: 'x', saveToSent: false }
    const send = async (key: string) => await gw.app.inject({ method: 'POST', url: '/v1/messages/send', headers: { authorization: `Bearer ${token}`, 'idempotency-key': key }, payload })
    assert.equal((await send('rate-first')).statusCode, 200)
    const refused = await send('rate-second')
    assert.equal(refused.statusCode, 429, refused.body)
    // the retry Retry-After asks for must run, not replay the 429 for 24 h
    assert.equal(await gw.service.idempotency.peek(account.id, 'rate-second'), null)
    const query = 'mutation($input: SendMessageInput!, $key: String) { sendMessage(input: $input, idempotencyKey: $key) { messageId } }'
    const gql = await gw.app.inject({ method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${token}` }, payload: { query, variables: { input: payload, key: 'rate-third' } } })
    assert.equal(gql.json<{ errors?: Array<{ extensions: { code: string } }> }>().errors?.[0]?.extensions.code, 'rate-limited', gql.body)
    assert.equal(await gw.service.idempotency.peek(account.id, 'rate-third'), null)
    assert.equal(await gw.service.idempotency.peek(account.id, 'rate-first') !== null, true, 'a 200 is kept')
  })
})
