/**
 * Delivery outcomes against a local receiver: retries with the same
 * webhook-id until a 2xx, 410 disabling, redirects as failures, a slow
 * endpoint not delaying another webhook, and a delivery dropped and counted
 * (on the resource and in /metrics) once the retry window has passed.
 */
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { testEnv } from '../env/shared.ts'
import { mailEvent, newSecret, sample, startReceiver, startWebhookGateway, type Receiver, type WebhookGateway } from './harness.ts'

describe('webhook delivery outcomes', () => {
  let gw: WebhookGateway
  let receiver: Receiver
  let token: string
  let accountId: string

  before(async () => {
    const env = await testEnv()
    receiver = await startReceiver()
    // a short retry window: the drop case needs it; the others finish well within it
    gw = await startWebhookGateway({ secret: newSecret(), env: { WEBHOOK_RETRY_WINDOW_MS: '60000', WEBHOOK_CONCURRENCY: '4' } })
    ;({ token, accountId } = await gw.login(await env.dovecot.createUser('whdeliv')))
  })
  after(async () => {
    await gw?.close()
    await receiver?.close()
  })

  async function hook (path: string): Promise<string> {
    const res = await gw.call('POST', '/v1/webhooks', token, { url: receiver.url(path) })
    assert.equal(res.statusCode, 201, res.body)
    await gw.runtime!.fanout.sync()
    return (res.json() as { id: string }).id
  }

  it('500 three times then 200: delivered, every attempt with the same webhook-id', async () => {
    await hook('/flaky')
    let calls = 0
    receiver.on('/flaky', (_r, res) => { res.writeHead(++calls <= 3 ? 500 : 200).end() })
    const event = mailEvent(accountId, 1)
    await gw.bus.publish(event)
    await receiver.waitFor(rs => rs.filter(r => r.path === '/flaky').length >= 4, 'four attempts')
    const attempts = receiver.requests.filter(r => r.path === '/flaky')
    assert.deepEqual(attempts.map(r => r.headers['webhook-id']), [event.id, event.id, event.id, event.id])
    // backoff: each wait at least the base delay (200 ms), doubling
    assert.ok(attempts[3]!.at - attempts[0]!.at >= 200 + 400 + 800 - 50)
    // the worker counts the 200 once it has read it
    let delivered = 0
    for (let i = 0; i < 300 && delivered === 0; i++) {
      delivered = sample(await gw.scrape(), 'mailgw_webhook_deliveries_total', 'outcome="delivered"')
      if (delivered === 0) await new Promise(resolve => setTimeout(resolve, 100))
    }
    assert.equal(delivered, 1)
  })

  it('410 Gone disables the webhook (status, disabledReason) and nothing more is sent', async () => {
    const id = await hook('/gone')
    receiver.on('/gone', (_r, res) => { res.writeHead(410).end() })
    await gw.bus.publish(mailEvent(accountId, 2))
    await receiver.waitFor(rs => rs.some(r => r.path === '/gone'), 'the 410')
    let view: { status: string, disabledReason?: string } = { status: 'active' }
    for (let i = 0; i < 200 && view.status !== 'disabled'; i++) {
      view = (await gw.call('GET', `/v1/webhooks/${id}`, token)).json()
      if (view.status !== 'disabled') await new Promise(resolve => setTimeout(resolve, 100))
    }
    assert.equal(view.status, 'disabled')
    assert.match(view.disabledReason ?? '', /410/)
    // a later event and a test event are not sent (the test event goes through the same queue)
    await gw.bus.publish(mailEvent(accountId, 3))
    await gw.call('POST', `/v1/webhooks/${id}/test`, token)
    const probe = await hook('/after-gone')
    await gw.call('POST', `/v1/webhooks/${probe}/test`, token)
    await receiver.waitFor(rs => rs.some(r => r.path === '/after-gone'), 'a later delivery elsewhere')
    assert.equal(receiver.requests.filter(r => r.path === '/gone').length, 1)
  })

  it('a redirect is a failure: the Location is never followed and the delivery is retried', async () => {
    await hook('/moved')
    receiver.on('/moved', (_r, res) => { res.writeHead(302, { location: '/target' }).end() })
    const event = mailEvent(accountId, 4)
    await gw.bus.publish(event)
    await receiver.waitFor(rs => rs.filter(r => r.path === '/moved').length >= 2, 'a retry after the 302')
    assert.equal(receiver.requests.filter(r => r.path === '/target').length, 0)
    assert.ok(receiver.requests.filter(r => r.path === '/moved').every(r => r.headers['webhook-id'] === event.id))
    receiver.on('/moved', (_r, res) => { res.writeHead(204).end() })
  })

  it('a slow endpoint does not delay another webhook', async () => {
    await hook('/slow')
    await hook('/fast')
    const held: ServerResponse[] = []
    receiver.on('/slow', (_r, res) => { held.push(res) })
    const event = mailEvent(accountId, 5)
    await gw.bus.publish(event)
    await receiver.waitFor(rs => rs.some(r => r.path === '/fast' && r.headers['webhook-id'] === event.id), 'the fast endpoint')
    await receiver.waitFor(rs => rs.some(r => r.path === '/slow'), 'the slow endpoint to be called')
    assert.ok(held.length >= 1)
    for (const res of held) res.writeHead(200).end()
    receiver.on('/slow', (_r, res) => { res.writeHead(200).end() })
  })
})

describe('webhook deliveries past the retry window', () => {
  it('are dropped and counted on the webhook and in /metrics', async (t) => {
    const env = await testEnv()
    const receiver = await startReceiver()
    const gw = await startWebhookGateway({ secret: newSecret(), env: { WEBHOOK_RETRY_WINDOW_MS: '1000' } })
    t.after(async () => { await gw.close(); await receiver.close() })
    const { token } = await gw.login(await env.dovecot.createUser('whdrop'))
    receiver.on('/down', (_r, res) => { res.writeHead(503).end() })
    const id = ((await gw.call('POST', '/v1/webhooks', token, { url: receiver.url('/down') })).json() as { id: string }).id
    await gw.call('POST', `/v1/webhooks/${id}/test`, token)
    let dead = 0
    for (let i = 0; i < 600 && dead === 0; i++) {
      dead = ((await gw.call('GET', `/v1/webhooks/${id}`, token)).json() as { deadLetters: number }).deadLetters
      if (dead === 0) await new Promise(resolve => setTimeout(resolve, 100))
    }
    assert.equal(dead, 1)
    assert.ok(receiver.requests.filter(r => r.path === '/down').length >= 2, 'retried before being dropped')
    assert.equal(sample(await gw.scrape(), 'mailgw_webhook_deliveries_total', 'outcome="dropped"'), 1)
  })
})
