/**
 * A webhook lives at most as long as its token: revoking the token ends the
 * webhook and drops what was queued for it (checked in Redis with a client
 * of the test's own), and nothing is sent after that.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { Redis } from 'ioredis'
import { testEnv } from '../env/shared.ts'
import { mailEvent, newSecret, poll, startReceiver, startWebhookGateway } from './harness.ts'

async function keysMatching (url: string, pattern: string): Promise<string[]> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  client.on('error', () => {})
  await client.connect()
  try {
    const keys: string[] = []
    let cursor = '0'
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
      cursor = next
      keys.push(...batch)
    } while (cursor !== '0')
    return keys
  } finally {
    client.disconnect()
  }
}

it('revoking the token ends its webhook and drops the queued deliveries', async (t) => {
  const env = await testEnv()
  const receiver = await startReceiver()
  const gw = await startWebhookGateway({ secret: newSecret(), env: { WEBHOOK_RETRY_BASE_MS: '60000' } })
  t.after(async () => { await gw.close(); await receiver.close() })
  const user = await env.dovecot.createUser('whrevoke')
  const creator = await gw.login(user)
  const other = await gw.login(user)
  receiver.on('/revoked', (_r, res) => { res.writeHead(500).end() })
  const created = await gw.call('POST', '/v1/webhooks', creator.token, { url: receiver.url('/revoked') })
  assert.equal(created.statusCode, 201)
  const id = (created.json() as { id: string }).id
  await gw.runtime!.fanout.sync()
  for (let n = 0; n < 5; n++) await gw.bus.publish(mailEvent(creator.accountId, n))
  // the first attempt fails and the next is a minute away: five entries wait in the stream
  await receiver.waitFor(rs => rs.some(r => r.path === '/revoked'), 'the first attempt')
  const queue = await keysMatching(env.redis.url, `*:whq:${id}`)
  assert.equal(queue.length, 1, 'the queue exists in Redis')

  assert.equal((await gw.call('DELETE', '/v1/sessions/current', creator.token)).statusCode, 204)
  const listed = await poll(async () => ((await gw.call('GET', '/v1/webhooks', other.token)).json() as { items: unknown[] }).items.length, n => n === 0)
  assert.equal(listed, 0, 'the webhook ended')
  assert.deepEqual(await keysMatching(env.redis.url, `*:whq:${id}`), [], 'its queue is gone')
  assert.equal((await gw.call('GET', `/v1/webhooks/${id}`, other.token)).statusCode, 404)
})
