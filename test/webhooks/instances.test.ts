/**
 * Three gateway instances sharing Redis and GATEWAY_SECRET, each with its own
 * Redis connection, delivery worker, fan-out and bus: every instance sees
 * every event (the test publishes each to all three buses, as a shared bus
 * does), and each event reaches each webhook once, with its event id.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { testEnv } from '../env/shared.ts'
import { mailEvent, newSecret, startReceiver, startWebhookGateway, type WebhookGateway } from './harness.ts'

it('3 instances: each event is delivered once per webhook', async (t) => {
  const env = await testEnv()
  const receiver = await startReceiver()
  const secret = newSecret()
  const gws: WebhookGateway[] = []
  t.after(async () => {
    await Promise.all(gws.map(g => g.close()))
    await receiver.close()
  })
  for (let i = 0; i < 3; i++) gws.push(await startWebhookGateway({ secret }))
  const [a, b] = gws as [WebhookGateway, WebhookGateway, WebhookGateway]
  const user = await env.dovecot.createUser('whmulti')
  const first = await a.login(user)
  const second = await b.login(user)
  // two webhooks, created on two instances
  for (const [gw, token, path] of [[a, first.token, '/one'], [b, second.token, '/two']] as const) {
    assert.equal((await gw.call('POST', '/v1/webhooks', token, { url: receiver.url(path) })).statusCode, 201)
  }
  await Promise.all(gws.map(g => g.runtime!.fanout.sync()))
  assert.ok(gws.every(g => g.bus.subscribers(first.accountId) === 1), 'every instance subscribed to the account')

  const events = Array.from({ length: 30 }, (_, n) => mailEvent(first.accountId, n))
  for (const event of events) await Promise.all(gws.map(g => g.bus.publish(event)))
  const ids = new Set(events.map(e => e.id))
  const seen = (path: string): string[] => receiver.requests.filter(r => r.path === path).map(r => String(r.headers['webhook-id']))
  await receiver.waitFor(() => ['/one', '/two'].every(p => new Set(seen(p)).size === ids.size), 'every event at both webhooks')
  for (const path of ['/one', '/two']) {
    assert.ok(seen(path).every(id => ids.has(id)), `${path}: only the published ids`)
    assert.equal(seen(path).length, ids.size, `${path}: each event once`)
    // in order per webhook
    assert.deepEqual(seen(path), events.map(e => e.id))
  }
})
