/**
 * /v1/webhooks end to end with real Redis and Dovecot: registration, the
 * secret shown once, Standard Webhooks signatures checked with the
 * `standardwebhooks` package on the receiver's side, the test event,
 * per-account cap, renew, delete, and 422 without Redis.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Webhook } from 'standardwebhooks'
import { testEnv, testRedisCluster } from '../env/shared.ts'
import { mailEvent, newSecret, startReceiver, startWebhookGateway, type Receiver, type WebhookGateway } from './harness.ts'

describe('webhooks: registration and signed delivery', () => {
  let gw: WebhookGateway
  let receiver: Receiver
  let user: { username: string, password: string }

  before(async () => {
    const env = await testEnv()
    user = await env.dovecot.createUser('whlife')
    receiver = await startReceiver()
    gw = await startWebhookGateway({ secret: newSecret(), env: { WEBHOOK_MAX_PER_ACCOUNT: '3' } })
  })
  after(async () => {
    await gw?.close()
    await receiver?.close()
  })

  it('creates a webhook (secret shown once), lists and reads it, and a test event arrives signed', async () => {
    const { token } = await gw.login(user)
    const res = await gw.call('POST', '/v1/webhooks', token, { url: receiver.url('/life') })
    assert.equal(res.statusCode, 201, res.body)
    assert.equal(res.headers['cache-control'], 'no-store')
    const created = res.json() as { id: string, secret: string, status: string, types: string[], mailboxIds: null, expiresAt: string }
    assert.match(created.secret, /^whsec_[A-Za-z0-9+/]+=*$/)
    assert.ok(Buffer.from(created.secret.slice(6), 'base64').length >= 24)
    assert.equal(created.status, 'active')
    assert.ok(created.types.includes('message.created'))
    assert.equal(created.mailboxIds, null)

    const list = (await gw.call('GET', '/v1/webhooks', token)).json() as { items: Array<Record<string, unknown>> }
    assert.deepEqual(list.items.map(w => w.id), [created.id])
    assert.equal(list.items[0]?.secret, undefined, 'the secret is shown only at creation')
    const one = await gw.call('GET', `/v1/webhooks/${created.id}`, token)
    assert.equal(one.statusCode, 200)
    assert.equal((one.json() as { deadLetters: number }).deadLetters, 0)

    const test = await gw.call('POST', `/v1/webhooks/${created.id}/test`, token)
    assert.equal(test.statusCode, 202, test.body)
    const eventId = (test.json() as { id: string }).id
    await receiver.waitFor(rs => rs.some(r => r.headers['webhook-id'] === eventId), 'the test event')
    const got = receiver.requests.find(r => r.headers['webhook-id'] === eventId)!
    assert.equal(got.path, '/life')
    const verifier = new Webhook(created.secret)
    const payload = verifier.verify(got.body, got.headers as Record<string, string>) as { type: string, id: string }
    assert.equal(payload.type, 'webhook.test')
    assert.equal(payload.id, eventId)
    // a tampered body, or another secret, fails verification
    assert.throws(() => verifier.verify(got.body.replace('webhook.test', 'webhook.tost'), got.headers as Record<string, string>))
    assert.throws(() => new Webhook('whsec_' + Buffer.alloc(32, 7).toString('base64')).verify(got.body, got.headers as Record<string, string>))
  })

  it('delivers bus events that match its types and mailboxes, with the event id as webhook-id', async () => {
    const { token, accountId } = await gw.login(user)
    const res = await gw.call('POST', '/v1/webhooks', token, { url: receiver.url('/filtered'), types: ['message.created'], mailboxIds: ['mbx-a'] })
    assert.equal(res.statusCode, 201, res.body)
    const { secret } = res.json() as { secret: string }
    await gw.runtime!.fanout.sync()
    const wanted = mailEvent(accountId, 1, 'message.created', 'mbx-a')
    await gw.bus.publish(mailEvent(accountId, 2, 'message.deleted', 'mbx-a'))
    await gw.bus.publish(mailEvent(accountId, 3, 'message.created', 'mbx-b'))
    await gw.bus.publish(wanted)
    await gw.bus.publish(mailEvent(accountId, 4, 'account.error', 'x'))
    await receiver.waitFor(rs => rs.some(r => r.path === '/filtered' && r.headers['webhook-id'] === wanted.id), 'the matching event')
    const mine = receiver.requests.filter(r => r.path === '/filtered')
    assert.equal(mine.length, 1, 'only the matching event')
    assert.deepEqual(new Webhook(secret).verify(mine[0]!.body, mine[0]!.headers as Record<string, string>), wanted)
  })

  it('caps registrations per account (429) and DELETE ends one (204, then 404)', async () => {
    const u = await (await testEnv()).dovecot.createUser('whcap')
    const { token } = await gw.login(u)
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      const res = await gw.call('POST', '/v1/webhooks', token, { url: receiver.url(`/cap${i}`) })
      assert.equal(res.statusCode, 201, res.body)
      ids.push((res.json() as { id: string }).id)
    }
    const over = await gw.call('POST', '/v1/webhooks', token, { url: receiver.url('/cap3') })
    assert.equal(over.statusCode, 429)
    assert.equal((over.json() as { code: string }).code, 'rate-limited')
    assert.equal((await gw.call('DELETE', `/v1/webhooks/${ids[0]!}`, token)).statusCode, 204)
    assert.equal((await gw.call('GET', `/v1/webhooks/${ids[0]!}`, token)).statusCode, 404)
    assert.equal((await gw.call('DELETE', `/v1/webhooks/${ids[0]!}`, token)).statusCode, 404)
    assert.equal((await gw.call('POST', '/v1/webhooks', token, { url: receiver.url('/cap4') })).statusCode, 201)
  })

  it('another account sees none of them', async () => {
    const other = await (await testEnv()).dovecot.createUser('whother')
    const { token } = await gw.login(other)
    assert.deepEqual((await gw.call('GET', '/v1/webhooks', token)).json(), { items: [] })
  })

  it('renew with a newer token of the same account extends expiresAt to that token\'s expiry', async () => {
    const u = await (await testEnv()).dovecot.createUser('whrenew')
    const short = await gw.login(u, 60)
    const created = (await gw.call('POST', '/v1/webhooks', short.token, { url: receiver.url('/renew') })).json() as { id: string, expiresAt: string }
    const long = await gw.login(u, 3600)
    const renewed = await gw.call('POST', `/v1/webhooks/${created.id}/renew`, long.token)
    assert.equal(renewed.statusCode, 200, renewed.body)
    const body = renewed.json() as { expiresAt: string }
    assert.ok(Date.parse(body.expiresAt) - Date.parse(created.expiresAt) > 3000 * 1000, `${body.expiresAt} vs ${created.expiresAt}`)
    assert.equal((await gw.call('GET', `/v1/webhooks/${created.id}`, short.token)).json().expiresAt, body.expiresAt)
  })

  it('refuses bad input: not a URL, another scheme, unknown types, credentials in the URL', async () => {
    const { token } = await gw.login(user)
    for (const payload of [{ url: 'not a url' }, { url: 'ftp://127.0.0.1/x' }, { url: receiver.url('/x'), types: ['nope'] }, { url: 'http://u:p@127.0.0.1/' }]) {
      const res = await gw.call('POST', '/v1/webhooks', token, payload)
      assert.equal(res.statusCode, 400, `${JSON.stringify(payload)}: ${res.body}`)
    }
  })
})

describe('webhooks without Redis', () => {
  it('answer 422 unsupported', async (t) => {
    const env = await testEnv()
    const gw = await startWebhookGateway({ secret: newSecret(), redis: false })
    t.after(() => gw.close())
    const { token } = await gw.login(await env.dovecot.createUser('whnoredis'))
    for (const [method, url] of [['POST', '/v1/webhooks'], ['GET', '/v1/webhooks'], ['GET', '/v1/webhooks/wh_x'], ['DELETE', '/v1/webhooks/wh_x']] as const) {
      const res = await gw.call(method, url, token, method === 'POST' ? { url: 'https://example.com/' } : undefined)
      assert.equal(res.statusCode, 422, `${method} ${url}: ${res.body}`)
      assert.equal((res.json() as { code: string }).code, 'unsupported')
    }
  })
})

describe('webhooks on a Redis Cluster (REDIS_URL=redis+cluster://…)', () => {
  it('registers, lists, and delivers a signed test event, every key in its account\'s slot', async () => {
    const env = await testEnv()
    const user = await env.dovecot.createUser('whcluster')
    const receiver = await startReceiver()
    const gw = await startWebhookGateway({ secret: newSecret(), redisUrl: (await testRedisCluster()).url })
    try {
      const { token } = await gw.login(user)
      const res = await gw.call('POST', '/v1/webhooks', token, { url: receiver.url('/cluster') })
      assert.equal(res.statusCode, 201, res.body)
      const created = res.json() as { id: string, secret: string }
      const list = (await gw.call('GET', '/v1/webhooks', token)).json() as { items: Array<{ id: string }> }
      assert.deepEqual(list.items.map(w => w.id), [created.id])
      const test = await gw.call('POST', `/v1/webhooks/${created.id}/test`, token)
      assert.equal(test.statusCode, 202, test.body)
      const eventId = (test.json() as { id: string }).id
      await receiver.waitFor(rs => rs.some(r => r.headers['webhook-id'] === eventId), 'the test event')
      const got = receiver.requests.find(r => r.headers['webhook-id'] === eventId)!
      assert.equal((new Webhook(created.secret).verify(got.body, got.headers as Record<string, string>) as { type: string }).type, 'webhook.test')
    } finally {
      await gw.close()
      await receiver.close()
    }
  })
})
