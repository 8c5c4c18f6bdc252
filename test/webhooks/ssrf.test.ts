/**
 * Webhook targets are checked like mail hosts: with the default allow-list
 * (public addresses only) loopback, private, link-local and metadata
 * addresses — and names resolving to them — are `403` at creation; and at
 * delivery the address actually connected to is checked again, so a name
 * that resolved to a public address at creation and to loopback later (DNS
 * rebinding) never reaches the receiver.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { testEnv } from '../env/shared.ts'
import { newSecret, sample, startReceiver, startWebhookGateway, type Receiver, type WebhookGateway } from './harness.ts'

const PUBLIC = '93.184.215.14'

describe('webhook URL checks with the default allow-list', () => {
  let gw: WebhookGateway
  let receiver: Receiver
  let token: string
  /** rebind.test: public while `rebound` is false, then the receiver's loopback address. */
  let rebound = false
  const asked: string[] = []

  before(async () => {
    const env = await testEnv()
    receiver = await startReceiver()
    gw = await startWebhookGateway({
      secret: newSecret(),
      // default allow-list: public addresses only
      env: { WEBHOOK_ALLOWED_HOSTS: '' },
      lookup: async (host) => {
        asked.push(host)
        if (host === 'loopback.test') return [{ address: '127.0.0.1', family: 4 }]
        if (host === 'mixed.test') return [{ address: PUBLIC, family: 4 }, { address: '10.0.0.5', family: 4 }]
        if (host === 'rebind.test') return [{ address: rebound ? '127.0.0.1' : PUBLIC, family: 4 }]
        throw new Error('ENOTFOUND')
      },
    })
    ;({ token } = await gw.login(await env.dovecot.createUser('whssrf')))
  })
  after(async () => {
    await gw?.close()
    await receiver?.close()
  })

  for (const url of [
    'http://127.0.0.1/hook', 'http://[::1]/hook', 'http://10.1.2.3/hook', 'http://192.168.0.1/hook',
    'http://169.254.169.254/latest/meta-data', 'http://[::ffff:169.254.169.254]/', 'http://loopback.test/hook', 'http://mixed.test/hook',
  ]) {
    it(`refuses ${url} (403 host-not-allowed)`, async () => {
      const res = await gw.call('POST', '/v1/webhooks', token, { url })
      assert.equal(res.statusCode, 403, res.body)
      assert.equal((res.json() as { code: string }).code, 'host-not-allowed')
    })
  }

  it('refuses a rebound name at delivery: the receiver on loopback is never reached', async () => {
    const res = await gw.call('POST', '/v1/webhooks', token, { url: `http://rebind.test:${receiver.port}/rebind` })
    assert.equal(res.statusCode, 201, res.body)
    const id = (res.json() as { id: string }).id
    rebound = true
    const before = asked.filter(h => h === 'rebind.test').length
    assert.equal((await gw.call('POST', `/v1/webhooks/${id}/test`, token)).statusCode, 202)
    let failed = 0
    for (let i = 0; i < 300 && failed === 0; i++) {
      failed = sample(await gw.scrape(), 'mailgw_webhook_deliveries_total', 'outcome="failed"')
      if (failed === 0) await new Promise(resolve => setTimeout(resolve, 100))
    }
    assert.ok(failed >= 1, 'the delivery failed')
    assert.ok(asked.filter(h => h === 'rebind.test').length > before, 'the name was resolved again at delivery')
    assert.equal(receiver.requests.filter(r => r.path === '/rebind').length, 0)
  })
})
