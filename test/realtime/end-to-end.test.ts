/**
 * Contract §8 end to end: changes made by an independent raw IMAP client reach
 * an SSE subscriber and a GraphQL subscriber of the real gateway (the bus and
 * watchers server.ts composes), and an SSE subscriber that reconnects with
 * Last-Event-ID loses nothing. Latencies are printed, never asserted.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeMessageId } from '../../src/mail/ids.ts'
import { startGateway } from '../e2e/gateway.ts'
import { testEnv } from '../env/shared.ts'
import { imapSession } from '../env/sessions.ts'
import { waitFor } from '../env/wait.ts'
import { graphqlSubscriber, sseSubscriber, type EventJson } from './clients.ts'

const WAIT_MS = 30_000

function p95 (values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)] ?? NaN
}

test('APPEND, keyword change and expunge by another client reach SSE and GraphQL subscribers; SSE replay loses nothing', async (t) => {
  const { dovecot } = await testEnv()
  const gateway = await startGateway({ realtime: true, env: { WATCH_POLL_MS: '2000' } })
  t.after(() => gateway.close())
  await gateway.app.listen({ host: '127.0.0.1', port: 0 })
  const address = gateway.app.server.address()
  assert.ok(address !== null && typeof address === 'object')
  const base = `http://127.0.0.1:${address.port}`
  const user = await dovecot.createUser('e2e-events')
  const { token, account } = await gateway.login(user)

  const sse: EventJson[] = []
  const gql: EventJson[] = []
  let sseSub = sseSubscriber(base, token, e => sse.push(e))
  const gqlSub = graphqlSubscriber(`ws://127.0.0.1:${address.port}/graphql`, token, e => gql.push(e))
  t.after(async () => { await sseSub.close(); await gqlSub.close() })
  await Promise.all([sseSub.ready, gqlSub.ready])

  const has = (list: EventJson[], type: string, id: string): boolean =>
    list.some(e => e.type === type && (e.messageIds ?? []).includes(id))
  const idOf = (d: { uidValidity: number, uid: number }): string => encodeMessageId(account.id, { mailbox: 'INBOX', validity: String(d.uidValidity), key: String(d.uid) })

  // APPENDs until both are subscribed and the watcher has its starting state (uncounted:
  // a message that arrives before the watcher reads its state is no change to it)
  for (let i = 0; ; i++) {
    const first = idOf(await dovecot.deliver(user.username, Buffer.from(`Subject: first ${i}\r\n\r\nhello\r\n`)))
    try {
      await waitFor(() => has(sse, 'message.created', first) && has(gql, 'message.created', first), 3000, 'the first APPEND')
      break
    } catch (err) {
      if (i === 10) throw err
    }
  }

  const latency: { sse: number[], graphql: number[] } = { sse: [], graphql: [] }
  const ids: string[] = []
  const uids: number[] = []
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now()
    const delivered = await dovecot.deliver(user.username, Buffer.from(`Subject: append ${i}\r\n\r\nhello\r\n`))
    const id = idOf(delivered)
    ids.push(id)
    uids.push(delivered.uid)
    const seen = { sse: 0, graphql: 0 }
    await waitFor(() => {
      const now = performance.now()
      if (seen.sse === 0 && has(sse, 'message.created', id)) seen.sse = now - t0
      if (seen.graphql === 0 && has(gql, 'message.created', id)) seen.graphql = now - t0
      return seen.sse > 0 && seen.graphql > 0
    }, WAIT_MS, `APPEND ${i}`)
    latency.sse.push(seen.sse)
    latency.graphql.push(seen.graphql)
  }
  console.log(`[events] APPEND → message.created, 20 appends: p95 SSE ${p95(latency.sse).toFixed(0)} ms, GraphQL ${p95(latency.graphql).toFixed(0)} ms`)

  // a keyword change and an expunge by another client
  const imap = await imapSession(dovecot.ports.imap, user)
  t.after(() => imap.close())
  await imap.run('SELECT INBOX')
  const uid = uids[3]!
  const target = ids[3]!
  await imap.run(`UID STORE ${uid} +FLAGS (\\Flagged)`)
  await waitFor(() => has(sse, 'message.updated', target) && has(gql, 'message.updated', target), WAIT_MS, 'the keyword change')
  const updated = gql.find(e => e.type === 'message.updated' && (e.messageIds ?? []).includes(target))
  assert.ok(JSON.stringify(updated?.keywords).includes('$flagged'), JSON.stringify(updated))
  await imap.run(`UID STORE ${uid} +FLAGS (\\Deleted)`)
  await imap.run(`UID EXPUNGE ${uid}`)
  await waitFor(() => has(sse, 'message.deleted', target) && has(gql, 'message.deleted', target), WAIT_MS, 'the expunge')

  // SSE: disconnect, three APPENDs meanwhile, reconnect with Last-Event-ID
  const last = sse.at(-1)!.id
  await sseSub.close()
  const missed: string[] = []
  for (let i = 0; i < 3; i++) missed.push(idOf(await dovecot.deliver(user.username, Buffer.from(`Subject: missed ${i}\r\n\r\nhello\r\n`))))
  await waitFor(() => missed.every(id => has(gql, 'message.created', id)), WAIT_MS, 'the watcher seeing them')
  const replayed: EventJson[] = []
  sseSub = sseSubscriber(base, token, e => replayed.push(e), { lastEventId: last })
  await sseSub.ready
  await waitFor(() => missed.every(id => has(replayed, 'message.created', id)), WAIT_MS, 'the replay')
  const created = replayed.filter(e => e.type === 'message.created').flatMap(e => e.messageIds ?? [])
  assert.deepEqual(created, missed, 'exactly the missed messages, once each, in order')
  assert.equal(replayed.some(e => e.type === 'stream.reset'), false)
})
