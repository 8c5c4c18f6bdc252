/**
 * Webhook delivery by a deployment of three gateway processes, once on one
 * Redis and once on the run's three-master Redis Cluster: the processes share
 * that Redis and GATEWAY_SECRET, one webhook watches an account, all three
 * listen to its events (counted in Redis: PUBSUB NUMSUB), and an
 * independent IMAP client APPENDs 20 messages while the receiver fails (503s,
 * then connections reset after the request was read) before it recovers.
 * Every request verifies with the `standardwebhooks` package; every appended
 * message arrives in an event answered 2xx; each event id is answered 2xx
 * exactly once for the deployment (not once per process); a message appears
 * under one webhook-id only, and every failed attempt is retried with its
 * webhook-id until delivered.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { Webhook } from 'standardwebhooks'
import type { GatewayProcess } from '../build/gateway-process.ts'
import { imapAppend } from '../env/imap-append.ts'
import { testEnv } from '../env/shared.ts'
import { newSecret, startReceiver } from '../webhooks/harness.ts'
import { BACKENDS, busListeners, primeWatch, startDeployment, until } from './deployment.ts'
import { recordSecret } from './gateway.ts'
import { call } from './http-call.ts'

const TOTAL = 20
/** Failed answers once the burst starts: two 503s, then two connection resets. */
const FAILURES = ['503', '503', 'reset', 'reset'] as const

const mail = (n: number): Buffer => Buffer.from(`From: a${n}@example.com\r\nTo: b@example.com\r\nSubject: burst ${n}\r\nMessage-ID: <burst-${n}@example.com>\r\n\r\nbody ${n}\r\n`)

for (const backend of BACKENDS) {
  describe(`webhooks of three gateway processes on ${backend.name}`, () => {
    let gateways: GatewayProcess[] = []
    after(() => { for (const gw of gateways) gw.kill() })

    it(`${TOTAL} APPENDs while the receiver fails, then recovers: each event delivered once, signed`, { timeout: 240_000 }, async (t) => {
      const env = await testEnv()
      const secret = newSecret()
      const receiver = await startReceiver()
      t.after(async () => { await receiver.close() })
      const redisUrl = await backend.url()
      gateways = await startDeployment(3, secret, redisUrl)
      const [g0, g1, g2] = gateways.map(g => g.port) as [number, number, number]

      const user = await env.dovecot.createUser('whproc')
      recordSecret(user.password)
      const session = await call(g0, 'POST', '/v1/sessions', { body: { protocol: 'imap', host: '127.0.0.1', port: env.dovecot.ports.imaps, security: 'tls', username: user.username, password: user.password } })
      assert.equal(session.status, 201, session.body)
      const { token, account } = JSON.parse(session.body) as { token: string, account: { id: string } }
      recordSecret(token)
      const created = await call(g1, 'POST', '/v1/webhooks', { token, body: { url: receiver.url('/hook'), types: ['message.created'] } })
      assert.equal(created.status, 201, created.body)
      const verifier = new Webhook((JSON.parse(created.body) as { secret: string }).secret)

      // what the receiver answered, per webhook-id
      const answered = new Map<string, string[]>()
      let failing = false
      let failed = 0
      receiver.on('/hook', (r, res) => {
        const id = String(r.headers['webhook-id'])
        const outcome = failing && failed < FAILURES.length ? FAILURES[failed++]! : '200'
        answered.set(id, [...(answered.get(id) ?? []), outcome])
        if (outcome === 'reset') res.socket?.destroy()
        else res.writeHead(Number(outcome)).end()
      })
      // every process offers every event to the webhook's queue: wait until all three listen
      await until(async () => await busListeners(redisUrl, secret, account.id) >= 3 ? true : undefined, 'three processes on the account\'s events', 60_000)
      await primeWatch(env.dovecot.ports.imap, user, receiver, '/hook')

      failing = true
      await imapAppend(env.dovecot.ports.imap, user, Array.from({ length: TOTAL }, (_, n) => ({ raw: mail(n) })))

      const inbox = (JSON.parse((await call(g2, 'GET', '/v1/mailboxes', { token })).body) as { items: Array<{ id: string, path: string }> })
        .items.find(m => m.path === 'INBOX')
      assert.ok(inbox !== undefined)
      const listed = await call(g0, 'GET', `/v1/mailboxes/${inbox.id}/messages?limit=200`, { token })
      assert.equal(listed.status, 200, listed.body)
      const listedItems = (JSON.parse(listed.body) as { items: Array<{ id: string, subject: string }> }).items
      const appendedIds = new Set(listedItems.filter(m => m.subject.startsWith('burst ')).map(m => m.id))
      assert.equal(appendedIds.size, TOTAL, `INBOX holds the ${TOTAL} appended messages`)

      /** Message id → the webhook-ids it came under, over the requests answered 2xx. */
      const delivered = (): Map<string, Set<string>> => {
        const byMessage = new Map<string, Set<string>>()
        for (const r of receiver.requests) {
          if (r.path !== '/hook') continue
          const id = String(r.headers['webhook-id'])
          if (!(answered.get(id) ?? []).includes('200')) continue
          for (const m of (JSON.parse(r.body) as { messageIds?: string[] }).messageIds ?? []) {
            if (appendedIds.has(m)) byMessage.set(m, (byMessage.get(m) ?? new Set()).add(id))
          }
        }
        return byMessage
      }
      await receiver.waitFor(() => delivered().size >= TOTAL, `all ${TOTAL} messages delivered`, 120_000)
        .catch((err: Error) => { throw new Error(`${err.message}; ${delivered().size} delivered, answers ${JSON.stringify([...answered])}`) })

      for (const r of receiver.requests.filter(r => r.path === '/hook')) {
        const event = verifier.verify(r.body, r.headers as Record<string, string>) as { id: string, type: string }
        assert.equal(event.type, 'message.created')
        assert.equal(event.id, r.headers['webhook-id'], 'the webhook-id is the event id')
      }
      assert.equal(failed, FAILURES.length, 'the receiver failed before it recovered')
      for (const [id, outcomes] of answered) {
        assert.equal(outcomes.filter(o => o === '200').length, 1, `event ${id} answered 2xx once: ${outcomes.join(', ')}`)
        assert.equal(outcomes.at(-1), '200', `event ${id} retried until delivered: ${outcomes.join(', ')}`)
      }
      for (const [id, eventIds] of delivered()) {
        assert.equal(eventIds.size, 1, `message ${id} came in ${eventIds.size} events with different webhook-ids`)
      }
    })
  })
}
