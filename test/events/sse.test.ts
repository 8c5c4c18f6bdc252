import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { AddressInfo } from 'node:net'
import { encodeMailboxId } from '../../src/mail/ids.ts'
import type { MailEvent } from '../../src/mail/events.ts'
import { startGateway, type Gateway } from '../e2e/gateway.ts'
import { sampleEvent } from './samples.ts'
import { openSse } from './sse-client.ts'

async function listen (gw: Gateway): Promise<string> {
  await gw.app.listen({ host: '127.0.0.1', port: 0 })
  return `http://127.0.0.1:${(gw.app.server.address() as AddressInfo).port}`
}

function bus (gw: Gateway): NonNullable<Gateway['service']['realtime']>['events'] {
  const rt = gw.service.realtime
  assert.ok(rt !== null)
  return rt.events
}

describe('GET /v1/events (SSE)', () => {
  let gw: Gateway
  let base: string
  let user: { username: string, password: string }

  before(async () => {
    gw = await startGateway({ env: { EVENTS_HEARTBEAT_MS: '200', EVENTS_SUBSCRIBERS_PER_TOKEN: '3', EVENTS_STREAM_BUFFER_BYTES: '65536' } })
    base = await listen(gw)
    user = await gw.env.dovecot.createUser('sse')
  })
  after(async () => { await gw.close() })

  it('delivers published events, filtered by mailbox and type, with id, event and data', async () => {
    const { token, account } = await gw.login(user)
    const inbox = encodeMailboxId(account.id, 'INBOX')
    const sent = encodeMailboxId(account.id, 'Sent')
    const all = await openSse(base, '/v1/events', { authorization: `Bearer ${token}` })
    const some = await openSse(base, `/v1/events?mailboxIds=${inbox}&types=message.created,account.error`, { authorization: `Bearer ${token}` })
    assert.equal(all.status, 200)
    assert.match(String(all.headers['content-type']), /^text\/event-stream/)
    const events: MailEvent[] = [
      sampleEvent(account.id, 1, inbox),
      sampleEvent(account.id, 2, sent),
      { ...sampleEvent(account.id, 3, inbox), type: 'message.deleted' },
      { ...sampleEvent(account.id, 4, inbox), mailboxId: null, type: 'account.error', code: 'auth-failed' },
      sampleEvent('another-account', 5, inbox),
      sampleEvent(account.id, 6, inbox),
    ]
    for (const e of events) await bus(gw).publish(e)
    const got = await all.frames_(5)
    assert.deepEqual(got.map((f) => f.id), [events[0], events[1], events[2], events[3], events[5]].map((e) => e?.id))
    assert.deepEqual(got.map((f) => f.event), ['message.created', 'message.created', 'message.deleted', 'account.error', 'message.created'])
    assert.deepEqual(JSON.parse(got[0]?.data ?? ''), events[0])
    const filtered = await some.frames_(3)
    assert.deepEqual(filtered.map((f) => f.id), [events[0], events[3], events[5]].map((e) => e?.id))
    // heartbeat comments keep proxies from closing the stream
    await all.comment(/heartbeat/)
    all.close()
    some.close()
  })

  it('resumes after Last-Event-ID: nothing lost, nothing twice; an unknown id starts with stream.reset', async () => {
    const { token, account } = await gw.login(user)
    const auth = { authorization: `Bearer ${token}` }
    const first = await openSse(base, '/v1/events', auth)
    for (let n = 10; n < 13; n++) await bus(gw).publish(sampleEvent(account.id, n))
    const seen = await first.frames_(3)
    first.close()
    await first.ended
    for (let n = 13; n < 16; n++) await bus(gw).publish(sampleEvent(account.id, n))
    const second = await openSse(base, '/v1/events', { ...auth, 'last-event-id': seen[2]?.id ?? '' })
    await bus(gw).publish(sampleEvent(account.id, 16))
    const resumed = await second.frames_(4)
    assert.deepEqual(resumed.map((f) => f.id), [13, 14, 15, 16].map((n) => sampleEvent(account.id, n).id))
    await bus(gw).publish(sampleEvent(account.id, 17))
    await second.frames_(5)
    assert.equal(new Set(second.frames.map((f) => f.id)).size, second.frames.length, 'no event twice')
    second.close()

    // the query form (an EventSource reopened with a new ticket) and an id that is not retained
    const reset = await openSse(base, `/v1/events?lastEventId=ev_${'A'.repeat(32)}`, auth)
    const [frame] = await reset.frames_(1)
    assert.equal(frame?.event, 'stream.reset')
    assert.equal(frame?.id, '', 'an empty id: clears the client\'s last event id')
    reset.close()
  })

  it('answers 400 to a garbage Last-Event-ID, an unknown type or a malformed mailbox id; 404 to a foreign one', async () => {
    const { token } = await gw.login(user)
    const auth = { authorization: `Bearer ${token}` }
    for (const [path, headers, status] of [
      ['/v1/events', { 'last-event-id': 'garbage\u00e9' }, 400],
      ['/v1/events?lastEventId=ev_short', {}, 400],
      ['/v1/events?types=message.created,nonsense', {}, 400],
      ['/v1/events?mailboxIds=%%%', {}, 400],
      ['/v1/events?mailboxIds=' + encodeMailboxId('someone-else', 'INBOX'), {}, 404],
    ] as const) {
      const res = await openSse(base, path, { ...auth, ...headers })
      assert.equal(res.status, status, `${path} ${JSON.stringify(headers)}: ${res.body}`)
      assert.match(String(res.headers['content-type']), /application\/problem\+json/)
    }
  })

  it('tickets: single use, 401 when used, malformed or missing; the token never in the URL', async () => {
    const { token } = await gw.login(user)
    const res = await gw.app.inject({ method: 'POST', url: '/v1/events/tickets', headers: { authorization: `Bearer ${token}` } })
    assert.equal(res.statusCode, 201)
    const { ticket, expiresAt } = res.json() as { ticket: string, expiresAt: string }
    assert.ok(Date.parse(expiresAt) - Date.now() <= 60_000)
    assert.ok(!ticket.includes(token.slice(0, 16)))
    const stream = await openSse(base, `/v1/events?ticket=${ticket}`)
    assert.equal(stream.status, 200)
    stream.close()
    for (const t of [ticket, 'x'.repeat(43), 'garbage']) {
      const again = await openSse(base, `/v1/events?ticket=${t}`)
      assert.equal(again.status, 401, t)
    }
    assert.equal((await openSse(base, '/v1/events')).status, 401)
  })

  it('a revocation on this instance ends the token\'s streams', async () => {
    const { token } = await gw.login(user)
    const stream = await openSse(base, '/v1/events', { authorization: `Bearer ${token}` })
    const res = await gw.app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: { authorization: `Bearer ${token}` } })
    assert.equal(res.statusCode, 204)
    await stream.ended
    assert.ok(stream.comments.includes('closed token-revoked'), JSON.stringify(stream.comments))
  })

  it('the token\'s expiry ends the stream', async () => {
    const { token } = await gw.login(user, {})
    // a short-lived session of its own
    const short = await gw.app.inject({ method: 'POST', url: '/v1/sessions', payload: { protocol: 'imap', host: '127.0.0.1', port: gw.env.dovecot.ports.imaps, security: 'tls', username: user.username, password: user.password, ttl: 2 } })
    assert.equal(short.statusCode, 201, short.body)
    const stream = await openSse(base, '/v1/events', { authorization: `Bearer ${(short.json() as { token: string }).token}` })
    await stream.ended
    assert.ok(stream.comments.includes('closed token-expired'), JSON.stringify(stream.comments))
    assert.ok(token.length > 0)
  })

  it('caps streams per token (429)', async () => {
    const { token } = await gw.login(user)
    const auth = { authorization: `Bearer ${token}` }
    const open = [await openSse(base, '/v1/events', auth), await openSse(base, '/v1/events', auth), await openSse(base, '/v1/events', auth)]
    const fourth = await openSse(base, '/v1/events', auth)
    assert.equal(fourth.status, 429)
    assert.ok(fourth.headers['retry-after'] !== undefined)
    for (const s of open) s.close()
  })

  it('ends streams on shutdown with a retry: hint', async () => {
    const other = await startGateway()
    const otherBase = await listen(other)
    const { token } = await other.login(user)
    const stream = await openSse(otherBase, '/v1/events', { authorization: `Bearer ${token}` })
    await other.close()
    await stream.ended
    assert.ok(stream.comments.includes('closed shutdown'), JSON.stringify(stream.comments))
    assert.ok(stream.frames.some((f) => f.retry !== undefined && f.retry > 0), JSON.stringify(stream.frames))
  })
})

describe('GET /v1/events with the default heartbeat', () => {
  it('sends the response headers at once, not with the first heartbeat', async () => {
    // the longest heartbeat interval: a stream whose headers waited for the first body byte
    // would open only after 20 s; an EventSource's `open` must not wait for it
    const gw = await startGateway({ env: { EVENTS_HEARTBEAT_MS: '20000' } })
    try {
      const base = await listen(gw)
      const { token } = await gw.login(await gw.env.dovecot.createUser('sse-open'))
      let timer: NodeJS.Timeout | undefined
      const limit = new Promise<'heartbeat'>((resolve) => { timer = setTimeout(() => { resolve('heartbeat') }, 10_000) })
      const opened = openSse(base, '/v1/events', { authorization: `Bearer ${token}` })
      const first = await Promise.race([opened, limit])
      clearTimeout(timer)
      assert.notEqual(first, 'heartbeat', 'no headers within half the heartbeat interval')
      const stream = await opened
      assert.equal(stream.status, 200)
      assert.deepEqual(stream.comments, [], 'no heartbeat had been sent yet')
      stream.close()
    } finally {
      await gw.close()
    }
  })
})
