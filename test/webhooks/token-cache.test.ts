/**
 * The fan-out authenticates a webhook's token once and trusts it for the
 * token's lifetime: passes over the registrations ask for no authentication
 * (counted on the runtime's authenticate), yet revoking the token still ends
 * its webhook at once, with nothing queued for the delivery worker to notice.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { testEnv } from '../env/shared.ts'
import { newSecret, poll, startReceiver, startWebhookGateway } from './harness.ts'

it('passes reuse a token\'s authentication; its revocation still ends the webhook', async (t) => {
  const env = await testEnv()
  const receiver = await startReceiver()
  const gw = await startWebhookGateway({ secret: newSecret() })
  t.after(async () => { await gw.close(); await receiver.close() })
  const user = await env.dovecot.createUser('whauth')
  const creator = await gw.login(user)
  const other = await gw.login(user)
  const created = await gw.call('POST', '/v1/webhooks', creator.token, { url: receiver.url('/cached') })
  assert.equal(created.statusCode, 201, created.body)
  const id = (created.json() as { id: string }).id
  await gw.runtime!.fanout.sync()
  const before = gw.authentications()
  assert.ok(before >= 1, 'the first pass authenticated the token')
  for (let i = 0; i < 5; i++) await gw.runtime!.fanout.sync()
  assert.equal(gw.authentications() - before, 0, 'five more passes asked for no authentication')

  assert.equal((await gw.call('DELETE', '/v1/sessions/current', creator.token)).statusCode, 204)
  const listed = await poll(async () => ((await gw.call('GET', '/v1/webhooks', other.token)).json() as { items: unknown[] }).items.length, n => n === 0, 100)
  assert.equal(listed, 0, 'the webhook ended')
  assert.equal((await gw.call('GET', `/v1/webhooks/${id}`, other.token)).statusCode, 404)
  assert.equal(receiver.requests.length, 0)
})
