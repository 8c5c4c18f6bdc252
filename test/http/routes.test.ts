import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ListMessagesInput } from '../../src/mail/service-types.ts'
import { account, GOOD_TOKEN, INBOX_ID, mailboxes, message, MESSAGE_ETAG, MESSAGE_ID } from './fake-service.ts'
import { auth, setup } from './helpers.ts'

const login = { protocol: 'imap', host: 'mail.example.com', username: 'alice', password: 's3cret-pw' }

test('POST /v1/sessions: 201 with the grant, no-store, default security applied', async (t) => {
  const { app, service } = await setup(t)
  const res = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { ...login, port: 993, ttl: 60 } })
  assert.equal(res.statusCode, 201)
  assert.equal(res.headers['cache-control'], 'no-store')
  const body = res.json()
  assert.equal(body.token, GOOD_TOKEN)
  assert.deepEqual(body.account, account)
  const [input] = service.callsTo('createSession')[0] as [Record<string, unknown>]
  assert.deepEqual(input, { ...login, port: 993, ttl: 60, security: 'tls' })
})

test('POST /v1/sessions accepts an accessToken instead of a password', async (t) => {
  const { app } = await setup(t)
  const res = await app.inject({
    method: 'POST', url: '/v1/sessions', payload: { protocol: 'pop3', host: 'pop.example.com', username: 'bob', accessToken: 'ya29.x', security: 'starttls' },
  })
  assert.equal(res.statusCode, 201)
})

test('POST /v1/sessions needs no bearer token', async (t) => {
  const { app, service } = await setup(t)
  const res = await app.inject({ method: 'POST', url: '/v1/sessions', payload: login })
  assert.equal(res.statusCode, 201)
  assert.equal(service.callsTo('authenticate').length, 0)
})

test('DELETE /v1/sessions/current revokes the caller: 204, empty body', async (t) => {
  const { app, service } = await setup(t)
  const res = await app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: auth })
  assert.equal(res.statusCode, 204)
  assert.equal(res.body, '')
  const [caller] = service.callsTo('revokeSession')[0] as [{ tokenId: string }]
  assert.equal(caller.tokenId, 't1')
})

test('GET /v1/account returns the caller\'s account', async (t) => {
  const { app, service } = await setup(t)
  const res = await app.inject({ url: '/v1/account', headers: auth })
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), account)
  assert.deepEqual(service.callsTo('authenticate'), [[GOOD_TOKEN]])
})

test('the Bearer scheme is case-insensitive', async (t) => {
  const { app } = await setup(t)
  const res = await app.inject({ url: '/v1/account', headers: { authorization: `bearer ${GOOD_TOKEN}` } })
  assert.equal(res.statusCode, 200)
})

test('GET /v1/mailboxes wraps the list in items', async (t) => {
  const { app } = await setup(t)
  const res = await app.inject({ url: '/v1/mailboxes', headers: auth })
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), { items: mailboxes })
})

test('GET /v1/mailboxes/{id} passes the id through', async (t) => {
  const { app, service } = await setup(t)
  const res = await app.inject({ url: `/v1/mailboxes/${INBOX_ID}`, headers: auth })
  assert.equal(res.statusCode, 200)
  assert.equal(res.json().name, 'INBOX')
  assert.equal(service.callsTo('getMailbox')[0]?.[1], INBOX_ID)
})

test('GET messages: default limit 50, no cursor, empty filter', async (t) => {
  const { app, service } = await setup(t)
  const res = await app.inject({ url: `/v1/mailboxes/${INBOX_ID}/messages`, headers: auth })
  assert.equal(res.statusCode, 200)
  const body = res.json()
  assert.equal(body.total, 7)
  assert.equal(body.nextCursor, 'bmV4dC1wYWdl')
  assert.equal(body.items.length, 2)
  assert.equal(body.items[1].hasAttachment, null)
  assert.deepEqual(service.callsTo('listMessages')[0]?.[2], { limit: 50, filter: {} })
})

test('GET messages: query parameters become typed input', async (t) => {
  const { app, service } = await setup(t)
  const qs = new URLSearchParams({
    limit: '200',
    cursor: 'bmV4dC1wYWdl',
    unread: 'true',
    flagged: 'false',
    from: 'ann@example.com',
    to: 'alice',
    subject: 'Quartalsbericht März',
    text: 'hello world',
    since: '2024-08-01',
    before: '2024-09-01T12:00:00+02:00',
  })
  const res = await app.inject({ url: `/v1/mailboxes/${INBOX_ID}/messages?${qs}`, headers: auth })
  assert.equal(res.statusCode, 200)
  const input = service.callsTo('listMessages')[0]?.[2] as ListMessagesInput
  assert.equal(input.limit, 200)
  assert.equal(input.cursor, 'bmV4dC1wYWdl')
  const f = input.filter!
  assert.equal(f.unread, true)
  assert.equal(f.flagged, false)
  assert.equal(f.from, 'ann@example.com')
  assert.equal(f.to, 'alice')
  assert.equal(f.subject, 'Quartalsbericht März')
  assert.equal(f.text, 'hello world')
  assert.equal(f.since?.toISOString(), '2024-08-01T00:00:00.000Z')
  assert.equal(f.before?.toISOString(), '2024-09-01T10:00:00.000Z')
})

test('GET /v1/messages/{id}: the message with a weak ETag and no-cache', async (t) => {
  const { app } = await setup(t)
  const res = await app.inject({ url: `/v1/messages/${MESSAGE_ID}`, headers: auth })
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers.etag, MESSAGE_ETAG)
  assert.equal(res.headers['cache-control'], 'private, no-cache')
  assert.deepEqual(res.json(), message)
})

test('GET /healthz and /readyz need no token', async (t) => {
  const { app, service } = await setup(t)
  const health = await app.inject({ url: '/healthz' })
  assert.equal(health.statusCode, 200)
  assert.deepEqual(health.json(), { status: 'ok' })
  const ready = await app.inject({ url: '/readyz' })
  assert.equal(ready.statusCode, 200)
  assert.deepEqual(ready.json(), { status: 'ok', cache: { backend: 'memory', status: 'ok' } })
  assert.equal(service.callsTo('authenticate').length, 0)
})

test('GET /readyz: a degraded cache is still ready (200, status degraded)', async (t) => {
  const { app, service } = await setup(t)
  service.readiness_ = { ready: true, cache: { backend: 'redis', status: 'degraded' } }
  const res = await app.inject({ url: '/readyz' })
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), { status: 'degraded', cache: { backend: 'redis', status: 'degraded' } })
})

test('GET /readyz: not ready → 503; a failing check → 503 too', async (t) => {
  const { app, service } = await setup(t)
  service.readiness_ = { ready: false, cache: { backend: 'redis', status: 'degraded' } }
  const res = await app.inject({ url: '/readyz' })
  assert.equal(res.statusCode, 503)
  assert.equal(res.json().status, 'unavailable')
  service.failWith('readiness', new Error('boom'))
  const failed = await app.inject({ url: '/readyz' })
  assert.equal(failed.statusCode, 503)
  assert.equal(failed.json().status, 'unavailable')
})

test('GET /docs serves the UI and /docs/json the very openapi.yaml', async (t) => {
  const { app } = await setup(t)
  const ui = await app.inject({ url: '/docs' })
  assert.equal(ui.statusCode, 200)
  assert.match(String(ui.headers['content-type']), /^text\/html/)
  assert.match(ui.body, /swagger/i)
  const json = await app.inject({ url: '/docs/json' })
  assert.equal(json.statusCode, 200)
  const doc = json.json()
  assert.equal(doc.openapi, '3.1.0')
  assert.ok(doc.paths['/v1/messages/{messageId}/raw'])
})

test('a sane X-Request-Id is echoed; an unsafe one is replaced', async (t) => {
  const { app } = await setup(t)
  const kept = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'abc-123.x' } })
  assert.equal(kept.headers['x-request-id'], 'abc-123.x')
  const replaced = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'bad id\twith spaces' } })
  assert.notEqual(replaced.headers['x-request-id'], 'bad id\twith spaces')
  assert.match(String(replaced.headers['x-request-id']), /^[0-9a-f-]{36}$/)
})
