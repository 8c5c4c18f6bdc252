/**
 * Three gateway processes on loopback sharing GATEWAY_SECRET and one Redis, as
 * a deployment runs them, once on one Redis and once on the run's three-master
 * Redis Cluster:
 * - 60 concurrent cold reads of one account, spread over the three, all
 *   succeed while Dovecot never shows more than IMAP_MAX_CONNECTIONS_PER_ACCOUNT
 *   sessions of that user (counted by Dovecot's anvil, as `doveadm who` does);
 * - RATE_LIMIT_PER_MINUTE is one budget per client for the deployment: a
 *   client spreading its requests over the three gets the limit, not 3×.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { GatewayProcess } from '../build/gateway-process.ts'
import { testEnv } from '../env/shared.ts'
import { newSecret } from '../webhooks/harness.ts'
import { BACKENDS, startDeployment } from './deployment.ts'
import { recordSecret } from './gateway.ts'
import { call } from './http-call.ts'

const CAP = 2
const RATE = 100

const mail = (n: number): Buffer => Buffer.from(`From: a${n}@example.com\r\nTo: b@example.com\r\nSubject: instances ${n}\r\nMessage-ID: <instances-${n}@example.com>\r\n\r\nbody ${n} ${'x'.repeat(2000)}\r\n`)

for (const backend of BACKENDS) {
  describe(`three gateway instances sharing ${backend.name}`, { timeout: 240_000 }, () => {
    let gateways: GatewayProcess[] = []
    before(async () => {
      gateways = await startDeployment(3, newSecret(), await backend.url(), {
        MAIL_ALLOWED_HOSTS: '127.0.0.1,localhost',
        IMAP_MAX_CONNECTIONS_PER_ACCOUNT: String(CAP),
        RATE_LIMIT_PER_MINUTE: String(RATE),
      })
    })
    after(() => { for (const gw of gateways) gw.kill() })

    it(`60 concurrent cold reads over three instances: Dovecot never sees more than ${CAP} sessions`, async () => {
      const { dovecot } = await testEnv()
      const user = await dovecot.createUser('instances')
      recordSecret(user.password)
      await dovecot.deliverMany(user.username, Array.from({ length: 60 }, (_, i) => ({ raw: mail(i) })))
      const [g0, g1, g2] = gateways.map(g => g.port) as [number, number, number]
      const session = await call(g0, 'POST', '/v1/sessions', { body: { protocol: 'imap', host: '127.0.0.1', port: dovecot.ports.imap, security: 'none', username: user.username, password: user.password } })
      assert.equal(session.status, 201, session.body)
      const { token } = JSON.parse(session.body) as { token: string }
      recordSecret(token)
      const boxes = JSON.parse((await call(g1, 'GET', '/v1/mailboxes', { token })).body) as { items: Array<{ id: string, path: string }> }
      const inbox = boxes.items.find(m => m.path === 'INBOX')
      assert.ok(inbox !== undefined)
      const page = JSON.parse((await call(g2, 'GET', `/v1/mailboxes/${inbox.id}/messages?limit=60`, { token })).body) as { items: Array<{ id: string }> }
      assert.equal(page.items.length, 60)

      const tracker = dovecot.trackConnections(user.username, 'imap')
      const results = await Promise.all(page.items.map(async (item, i) => await call([g0, g1, g2][i % 3]!, 'GET', `/v1/messages/${item.id}`, { token })))
      const { max } = await tracker.stop()
      assert.deepEqual(results.map(r => r.status), new Array(60).fill(200), results.find(r => r.status !== 200)?.body)
      for (const [i, r] of results.entries()) assert.match(r.body, new RegExp(`instances ${Number(JSON.parse(r.body).subject.split(' ')[1])}`), `read ${i}`)
      assert.ok(max >= 1, 'the tracker saw the connections')
      assert.ok(max <= CAP, `Dovecot saw ${max} sessions of the user (cap ${CAP} for the deployment)`)
    })

    it(`RATE_LIMIT_PER_MINUTE=${RATE} is one budget for a client across the three`, async () => {
    // a client address of its own (loopback): a fresh window nobody else counts in
      const from = '127.0.0.77'
      const statuses: number[] = []
      for (let i = 0; i < RATE + 12; i++) statuses.push((await call(gateways[i % 3]!.port, 'GET', '/v1/account', { from })).status)
      const allowed = statuses.filter(s => s !== 429).length
      assert.equal(allowed, RATE, `${allowed} requests passed the limit of ${RATE} (per instance it would be ${3 * RATE})`)
      assert.deepEqual(statuses.slice(RATE), new Array(12).fill(429))
      assert.equal((await call(gateways[0]!.port, 'GET', '/v1/account', { from: '127.0.0.78' })).status, 401, 'another client has its own budget')
    })
  })
}
