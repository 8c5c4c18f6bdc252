import { test } from 'node:test'
import assert from 'node:assert/strict'
import WebSocket from 'ws'
import { testEnv } from '../env/shared.ts'
import { waitFor } from '../env/wait.ts'
import { startGateway } from '../e2e/gateway.ts'
import { openSse } from '../events/sse-client.ts'
import { collect, event, startLive, type Live } from './helpers.ts'

const SUB = `subscription ($mailboxIds: [ID!], $types: [String!]) {
  mailboxEvents(mailboxIds: $mailboxIds, types: $types) { id type accountId mailboxId state at messageIds keywords { messageId keywords } code }
}`

async function session (live: Live, opts: { ttl?: number } = {}): Promise<{ token: string, accountId: string, inbox: string, archive: string }> {
  const { dovecot } = await testEnv()
  const user = await dovecot.createUser('gqlsub')
  let token: string
  let accountId: string
  if (opts.ttl === undefined) {
    ({ token, account: { id: accountId } } = await live.gateway.login(user))
  } else {
    const res = await live.gateway.app.inject({
      method: 'POST',
      url: '/v1/sessions',
      payload: { protocol: 'imap', host: '127.0.0.1', port: dovecot.ports.imaps, security: 'tls', username: user.username, password: user.password, ttl: opts.ttl },
    })
    assert.equal(res.statusCode, 201, res.body)
    ;({ token, account: { id: accountId } } = res.json() as { token: string, account: { id: string } })
  }
  const list = (await live.gateway.get('/v1/mailboxes', token)).json() as { items: Array<{ id: string, path: string }> }
  const id = (path: string): string => list.items.find(m => m.path === path)?.id ?? assert.fail(`no ${path}`)
  return { token, accountId, inbox: id('INBOX'), archive: id('Archive') }
}

/** A raw WebSocket client: the close code as the server sent it. */
async function rawClose (url: string, messages: object[]): Promise<{ code: number, reason: string, received: string[] }> {
  const ws = new WebSocket(url, 'graphql-transport-ws')
  const received: string[] = []
  ws.on('message', (data) => received.push(String(data)))
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  for (const m of messages) ws.send(JSON.stringify(m))
  return await new Promise(resolve => ws.once('close', (code, reason) => resolve({ code, reason: String(reason), received })))
}

test('a bad token is refused at connection_init with close code 4403, before anything subscribes', async (t) => {
  const live = await startLive(t)
  for (const authorization of ['Bearer mgw1.forged', 'Basic abc', undefined]) {
    const closed = await rawClose(live.url, [{ type: 'connection_init', payload: authorization === undefined ? {} : { authorization } }])
    assert.equal(closed.code, 4403, String(authorization))
    assert.deepEqual(closed.received, [], 'no connection_ack, no connection_error')
  }
  // the graphql-ws client reports the same close to the subscriber
  let code = 0
  const got = collect(live.client('mgw1.forged', { onClosed: (c) => { code = c } }), SUB)
  await waitFor(() => got.errors.length > 0, 10_000, 'the refusal')
  assert.equal(code, 4403)
  assert.equal(live.bus.subscribes, 0)
  assert.equal(live.watching.acquired, 0)
})

test('a subscribe before connection_ack closes with 4401; the legacy protocol is not spoken', async (t) => {
  const live = await startLive(t)
  const closed = await rawClose(live.url, [{ type: 'subscribe', id: '1', payload: { query: SUB } }])
  assert.equal(closed.code, 4401)
  // a client offering only `graphql-ws` is not agreed a subprotocol: its handshake fails
  const legacy = new WebSocket(live.url, 'graphql-ws')
  const err = await new Promise<Error>(resolve => legacy.once('error', resolve))
  assert.match(err.message, /no subprotocol/)
})

test('events are filtered by mailbox and type; stream.reset always passes; keywords come as a list', async (t) => {
  const live = await startLive(t)
  const s = await session(live)
  const client = live.client(s.token)
  const got = collect(client, SUB, { mailboxIds: [s.inbox], types: ['message.created', 'message.updated'] })
  await waitFor(() => live.bus.live === 1, 10_000, 'the subscription')
  assert.equal(live.watching.held, 1)
  const sent = [
    event(s.accountId, 'message.created', s.inbox, { messageIds: ['m1'] }),
    event(s.accountId, 'message.created', s.archive, { messageIds: ['m2'] }), // another mailbox
    event(s.accountId, 'message.deleted', s.inbox, { messageIds: ['m1'] }), // another type
    event(s.accountId, 'message.updated', s.inbox, { messageIds: ['m3'], keywords: { m3: ['$seen', '$flagged'] } }),
    event(s.accountId, 'stream.reset', null, { state: null }),
    event(s.accountId, 'account.error', null, { state: null, code: 'auth-failed' }), // type filtered
  ]
  for (const e of sent) await live.bus.publish(e)
  await waitFor(() => got.events.length >= 3, 10_000, 'the events')
  assert.deepEqual(got.errors, [])
  assert.deepEqual(got.events.map(e => e.id), [sent[0]!.id, sent[3]!.id, sent[4]!.id])
  assert.deepEqual(got.events[0], { ...sent[0], keywords: null, code: null })
  assert.deepEqual(got.events[1]?.keywords, [{ messageId: 'm3', keywords: ['$seen', '$flagged'] }])
  got.stop()
  await waitFor(() => live.bus.live === 0 && live.watching.held === 0, 10_000, 'the release')
})

test('filters are validated like REST: unknown type, malformed or foreign mailbox id → an error, nothing held', async (t) => {
  const live = await startLive(t)
  const a = await session(live)
  const b = await session(live)
  const client = live.client(a.token)
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ types: ['message.exploded'] }, 'bad-request'],
    [{ mailboxIds: ['%%%'] }, 'bad-request'],
    [{ mailboxIds: [b.inbox] }, 'not-found'],
    [{ mailboxIds: [] }, 'bad-request'],
  ]
  for (const [variables, code] of cases) {
    const got = collect(client, SUB, variables)
    await waitFor(() => got.completed || got.errors.length > 0, 10_000, 'the refusal')
    await waitFor(() => got.completed, 10_000, 'complete after the error')
    assert.equal((got.errors[0] as { extensions?: { code?: string } }).extensions?.code, code, JSON.stringify(variables))
  }
  assert.equal(live.bus.subscribes, 0)
  assert.equal(live.watching.acquired, 0)
})

test('documents are checked as over HTTP: invalid fields, depth limit, queries → error with bad-request', async (t) => {
  const live = await startLive(t, { GRAPHQL_MAX_DEPTH: '2' })
  const s = await session(live)
  const client = live.client(s.token)
  for (const query of [
    'subscription { mailboxEvents { nope } }',
    'subscription { mailboxEvents { keywords { messageId } } }', // depth 3 > 2
    '{ account { id } }',
    'subscription { mailboxEvents(types: 7) { id } }',
  ]) {
    const got = collect(client, query)
    await waitFor(() => got.errors.length > 0, 10_000, query)
    const err = got.errors[0] as Array<{ extensions?: { code?: string } }>
    assert.ok(Array.isArray(err), `an error message for ${query}`)
    assert.equal(err[0]?.extensions?.code, 'bad-request', query)
  }
  // the socket still serves a good subscription
  const ok = collect(client, 'subscription { mailboxEvents { id } }')
  await waitFor(() => live.bus.live === 1, 10_000, 'the good subscription')
  ok.stop()
  assert.equal(live.watching.acquired, 1)
})

test('subscribers per token are capped: rate-limited past EVENTS_SUBSCRIBERS_PER_TOKEN, across sockets', async (t) => {
  const live = await startLive(t, { EVENTS_SUBSCRIBERS_PER_TOKEN: '2' })
  const s = await session(live)
  const first = collect(live.client(s.token), SUB)
  const second = collect(live.client(s.token), SUB)
  await waitFor(() => live.bus.live === 2, 10_000, 'two subscriptions')
  const third = collect(live.client(s.token), SUB)
  await waitFor(() => third.completed, 10_000, 'the refusal')
  assert.equal((third.errors[0] as { extensions?: { code?: string } }).extensions?.code, 'rate-limited')
  assert.equal(live.bus.live, 2)
  first.stop()
  await waitFor(() => live.bus.live === 1, 10_000, 'one released')
  const fourth = collect(live.client(s.token), SUB)
  await waitFor(() => live.bus.live === 2, 10_000, 'a slot again')
  second.stop()
  fourth.stop()
})

test('SSE streams and GraphQL subscriptions of one token share EVENTS_SUBSCRIBERS_PER_TOKEN', async (t) => {
  const live = await startLive(t, { EVENTS_SUBSCRIBERS_PER_TOKEN: '2' })
  const s = await session(live)
  const base = live.url.replace(/^ws:/, 'http:').replace(/\/graphql$/, '')
  const auth = { authorization: `Bearer ${s.token}` }
  const stream = await openSse(base, '/v1/events', auth)
  assert.equal(stream.status, 200)
  const sub = collect(live.client(s.token), SUB)
  // (the SSE stream listens on the service's own bus; the counting bus sees the subscription)
  await waitFor(() => live.bus.live === 1, 10_000, 'the subscription')
  // the token's two slots are taken, one by each face: both faces refuse a third
  const refusedSse = await openSse(base, '/v1/events', auth)
  assert.equal(refusedSse.status, 429)
  const refusedSub = collect(live.client(s.token), SUB)
  await waitFor(() => refusedSub.completed, 10_000, 'the refusal')
  assert.equal((refusedSub.errors[0] as { extensions?: { code?: string } }).extensions?.code, 'rate-limited')
  // a closed stream gives its slot back: a subscription fits again
  stream.close()
  await stream.ended
  let again = collect(live.client(s.token), SUB)
  for (let tries = 0; tries < 50 && live.bus.live < 2; tries++) {
    await waitFor(() => again.completed || live.bus.live === 2, 10_000, 'an answer')
    if (again.completed) again = collect(live.client(s.token), SUB)
  }
  assert.equal(live.bus.live, 2, 'the stream\'s slot was given back')
  sub.stop()
  again.stop()
})

test('a revoked token closes the socket (4403) and gives back every listener and watch handle', async (t) => {
  // the revocation store is not read again within the test: the revocation itself ends the socket
  const live = await startLive(t, { CACHE_MAX_STALENESS_MS: '60000' })
  const s = await session(live)
  let closed: [number, string] | null = null
  const client = live.client(s.token, { onClosed: (code, reason) => { closed = [code, reason] } })
  const got = collect(client, SUB)
  const also = collect(client, 'subscription { mailboxEvents(types: ["message.created"]) { id } }')
  await waitFor(() => live.bus.live === 2, 10_000, 'the subscriptions')
  const res = await live.gateway.app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: { authorization: `Bearer ${s.token}` } })
  assert.equal(res.statusCode, 204)
  await waitFor(() => closed !== null, 5_000, 'the close')
  assert.deepEqual(closed, [4403, 'Token revoked'])
  await waitFor(() => live.bus.live === 0 && live.watching.held === 0, 5_000, 'the release')
  assert.equal(live.gateway.service.lifetimes.size, 0)
  assert.ok(got.errors.length + also.errors.length > 0)
  // and the token cannot open another
  const again = await rawClose(live.url, [{ type: 'connection_init', payload: { authorization: `Bearer ${s.token}` } }])
  assert.equal(again.code, 4403)
})

test('an expiring token closes the socket (4403) at its expiry', async (t) => {
  const live = await startLive(t)
  const s = await session(live, { ttl: 2 })
  let closed: [number, string] | null = null
  const client = live.client(s.token, { onClosed: (code, reason) => { closed = [code, reason] } })
  collect(client, SUB)
  await waitFor(() => live.bus.live === 1, 10_000, 'the subscription')
  await waitFor(() => closed !== null, 10_000, 'the close at expiry')
  assert.deepEqual(closed, [4403, 'Token expired'])
  await waitFor(() => live.bus.live === 0 && live.watching.held === 0, 5_000, 'the release')
})

test('50 subscribe/unsubscribe cycles leave no bus listener, watch handle or token hold behind', async (t) => {
  const live = await startLive(t)
  const s = await session(live)
  const client = live.client(s.token)
  for (let i = 0; i < 50; i++) {
    const got = collect(client, SUB, i % 2 === 0 ? {} : { types: ['message.created'] })
    await waitFor(() => live.bus.live === 1, 10_000, `subscription ${i}`)
    await live.bus.publish(event(s.accountId, 'message.created', s.inbox))
    await waitFor(() => got.events.length === 1, 10_000, `event ${i}`)
    got.stop()
    await waitFor(() => live.bus.live === 0, 10_000, `release ${i}`)
  }
  assert.equal(live.bus.subscribes, 50)
  assert.equal(live.watching.held, 0)
  assert.equal(live.watching.acquired, 50)
  // half of them again, closing the socket instead of completing
  for (let i = 0; i < 25; i++) {
    const c = live.client(s.token)
    collect(c, SUB)
    await waitFor(() => live.bus.live === 1, 10_000, `socket ${i}`)
    await c.dispose()
    await waitFor(() => live.bus.live === 0 && live.watching.held === 0, 10_000, `socket release ${i}`)
  }
  await client.dispose()
  await waitFor(() => live.gateway.service.lifetimes.size === 0, 10_000, 'no token held')
})

test('a revocation made on another instance (shared Redis) closes the socket within CACHE_MAX_STALENESS_MS', async (t) => {
  const live = await startLive(t, { CACHE_MAX_STALENESS_MS: '1000' }, { redis: true })
  const other = await startGateway({ redis: true })
  t.after(() => other.close())
  const s = await session(live)
  let closed: [number, string] | null = null
  collect(live.client(s.token, { onClosed: (code, reason) => { closed = [code, reason] } }), SUB)
  await waitFor(() => live.bus.live === 1, 10_000, 'the subscription')
  const res = await other.app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: { authorization: `Bearer ${s.token}` } })
  assert.equal(res.statusCode, 204)
  await waitFor(() => closed !== null, 10_000, 'the close')
  assert.deepEqual(closed, [4403, 'Token revoked'])
  await waitFor(() => live.bus.live === 0 && live.watching.held === 0, 5_000, 'the release')
})
