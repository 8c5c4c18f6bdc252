/**
 * Watch takeover between gateway processes, once on one Redis and once on
 * the run's three-master Redis Cluster: three processes share that Redis and
 * GATEWAY_SECRET; a webhook keeps one account watched deployment-wide, so one
 * process holds the account's watch lease and holds the IMAP watch
 * connection. While an independent IMAP client APPENDs 50 messages to INBOX,
 * the holder is SIGKILLed. Once its lease expires another process takes the
 * watch over and reconciles from the last stored state: every appended
 * message reaches the webhook in a signed message.created event (checked with
 * the `standardwebhooks` package), a message seen twice comes under the same
 * webhook-id, and the delivered message ids are exactly the 50 in INBOX (as
 * the gateway lists them).
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { Webhook } from 'standardwebhooks'
import type { GatewayProcess } from '../build/gateway-process.ts'
import { imapAppend } from '../env/imap-append.ts'
import { testEnv } from '../env/shared.ts'
import { newSecret, startReceiver, startWebhookGateway, type Received } from '../webhooks/harness.ts'
import { BACKENDS, connectionsByPid, primeWatch, soleHolder, startDeployment, until } from './deployment.ts'
import { recordSecret } from './gateway.ts'
import { call } from './http-call.ts'

const TOTAL = 50
const BEFORE_KILL = 10

const mail = (n: number): Buffer => Buffer.from(`From: a${n}@example.com\r\nTo: b@example.com\r\nSubject: takeover ${n}\r\nMessage-ID: <takeover-${n}@example.com>\r\n\r\nbody ${n}\r\n`)

for (const backend of BACKENDS) {
  describe(`three gateway processes on ${backend.name}`, () => {
    let gateways: GatewayProcess[] = []
    after(() => { for (const gw of gateways) gw.kill() })

    it('SIGKILL of the watching process during 50 APPENDs: another takes over and the webhook gets all 50', {
      timeout: 300_000,
    }, async (t) => {
      await takeover(t, await backend.url(), started => { gateways = started })
    })
  })
}

async function takeover (t: { after: (fn: () => Promise<void>) => void }, redisUrl: string, started: (gateways: GatewayProcess[]) => void): Promise<void> {
  const env = await testEnv()
  const secret = newSecret()
  const receiver = await startReceiver()
  t.after(async () => { await receiver.close() })
  const gateways = await startDeployment(3, secret, redisUrl)
  started(gateways)

  const user = await env.dovecot.createUser('takeover')
  recordSecret(user.password)
  // log in on an in-process gateway of the deployment (same secret and Redis), closed at once:
  // afterwards only the watching process has a connection to Dovecot
  const loginGateway = await startWebhookGateway({ secret, redisUrl })
  const { token } = await loginGateway.login(user).finally(() => loginGateway.close())
  const imapsPort = env.dovecot.ports.imaps
  const pids = new Set(gateways.map(g => g.child.pid))
  assert.deepEqual([...(await connectionsByPid(imapsPort)).keys()].filter(pid => pids.has(pid)), [], 'no process connected before the webhook')

  const created = await call(gateways[1]!.port, 'POST', '/v1/webhooks', { token, body: { url: receiver.url('/hook'), types: ['message.created'] } })
  assert.equal(created.status, 201, created.body)
  const verifier = new Webhook((JSON.parse(created.body) as { secret: string }).secret)

  // the holder: the one process with a connection to Dovecot (its watch connection)
  const holder = await soleHolder(gateways, imapsPort)
  const survivors = gateways.filter(g => g !== holder)

  await primeWatch(env.dovecot.ports.imap, user, receiver, '/hook')
  const primed = receiver.requests.length

  const items = Array.from({ length: TOTAL }, (_, n) => ({ raw: mail(n) }))
  await imapAppend(env.dovecot.ports.imap, user, items.slice(0, BEFORE_KILL))
  // the holder has seen part of the burst: the takeover starts from its last state
  await receiver.waitFor(rs => rs.length > primed, 'a message.created of the burst from the holder', 60_000)
  const rest = imapAppend(env.dovecot.ports.imap, user, items.slice(BEFORE_KILL))
  holder.kill()
  assert.equal(await holder.exited, null, 'the holder was killed by the signal')
  await rest

  const inbox = (JSON.parse((await call(survivors[0]!.port, 'GET', '/v1/mailboxes', { token })).body) as { items: Array<{ id: string, path: string }> })
    .items.find(m => m.path === 'INBOX')
  assert.ok(inbox !== undefined)
  const listed = await call(survivors[1]!.port, 'GET', `/v1/mailboxes/${inbox.id}/messages?limit=200`, { token })
  assert.equal(listed.status, 200, listed.body)
  const listedItems = (JSON.parse(listed.body) as { items: Array<{ id: string, subject: string }> }).items
  const appendedIds = new Set(listedItems.filter(m => m.subject.startsWith('takeover ')).map(m => m.id))
  const primerIds = new Set(listedItems.filter(m => m.subject.startsWith('primer ')).map(m => m.id))
  assert.equal(appendedIds.size, TOTAL, 'INBOX holds the 50 appended messages')

  const delivered = (rs: Received[]): Map<string, Set<string>> => {
    const byMessage = new Map<string, Set<string>>()
    for (const r of rs) {
      if (r.path !== '/hook') continue
      const event = verifier.verify(r.body, r.headers as Record<string, string>) as { id: string, type: string, messageIds?: string[] }
      assert.equal(event.type, 'message.created')
      assert.equal(event.id, r.headers['webhook-id'], 'the webhook-id is the event id')
      for (const id of (event.messageIds ?? []).filter(id => !primerIds.has(id))) byMessage.set(id, (byMessage.get(id) ?? new Set()).add(event.id))
    }
    return byMessage
  }
  // a lease lives 30 s and is tried for every 10 s: allow generously for the takeover under load
  const survivorPids = new Set(survivors.map(g => g.child.pid))
  await until(async () => [...(await connectionsByPid(imapsPort)).keys()].some(pid => survivorPids.has(pid)) ? true : undefined,
    'another process to watch the account', 90_000)
  const seenIds = (rs: Received[]): number => new Set(rs.filter(r => r.path === '/hook')
    .flatMap(r => (JSON.parse(r.body) as { messageIds?: string[] }).messageIds ?? []).filter(id => !primerIds.has(id))).size
  await receiver.waitFor(rs => seenIds(rs) >= TOTAL, `all ${TOTAL} messages at the webhook`, 120_000)
    .catch((err: Error) => { throw new Error(`${err.message}; ${seenIds(receiver.requests)} messages delivered`) })

  const byMessage = delivered(receiver.requests)
  assert.deepEqual([...byMessage.keys()].sort(), [...appendedIds].sort(), 'the delivered ids are the appended ones')
  for (const [id, eventIds] of byMessage) {
    assert.equal(eventIds.size, 1, `message ${id} came in ${eventIds.size} events with different webhook-ids: ${[...eventIds].join(', ')}`)
  }
  assert.ok(survivors.every(g => g.child.exitCode === null), 'the other processes still run')
}
