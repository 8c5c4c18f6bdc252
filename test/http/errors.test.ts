import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { LightMyRequestResponse } from 'fastify'
import { ERRORS, GatewayError } from '../../src/mail/errors.ts'
import type { ErrorCode } from '../../src/mail/errors.ts'
import { INBOX_ID, MESSAGE_ID } from './fake-service.ts'
import { auth, setup } from './helpers.ts'
import { MAX_ID_CHARS } from '../../src/mail/ids.ts'
import { operationTimeoutMs } from '../../src/util/operation-timeout.ts'

function assertProblem (res: LightMyRequestResponse, status: number, code: string): Record<string, unknown> {
  assert.equal(res.statusCode, status, res.body)
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/)
  const body = res.json()
  assert.deepEqual(Object.keys(body).sort(), ['code', 'detail', 'status', 'title', 'type'])
  assert.equal(body.status, status)
  assert.equal(body.code, code)
  assert.equal(body.type, `https://mail-gateway.dev/problems/${code}`)
  assert.equal(typeof body.detail, 'string')
  return body
}

const login = { protocol: 'imap', host: 'mail.example.com', username: 'alice', password: 'pw-123456' }

// Every catalogue entry, thrown by the service, leaves with its own status and code.
const expected: Record<ErrorCode, number> = {
  'bad-request': 400,
  unauthorized: 401,
  'auth-failed': 401,
  'host-not-allowed': 403,
  'not-found': 404,
  'method-not-allowed': 405,
  'mailbox-locked': 409,
  'already-exists': 409,
  'mailbox-not-empty': 409,
  'send-rejected': 422,
  'idempotency-conflict': 409,
  'stale-id': 410,
  'cannot-calculate-changes': 410,
  'precondition-failed': 412,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  unsupported: 422,
  'precondition-unavailable': 428,
  'rate-limited': 429,
  'headers-too-large': 431,
  internal: 500,
  'upstream-unavailable': 502,
  'upstream-timeout': 504,
  unavailable: 503,
  'over-quota': 507,
}

test('the status table covers the whole catalogue', () => {
  assert.deepEqual(Object.keys(expected).sort(), Object.keys(ERRORS).sort())
})

for (const [code, status] of Object.entries(expected) as Array<[ErrorCode, number]>) {
  test(`GatewayError('${code}') → ${status} problem+json`, async (t) => {
    const { app, service } = await setup(t)
    service.failWith('getMailbox', new GatewayError(code, `detail for ${code}`))
    const res = await app.inject({ url: `/v1/mailboxes/${INBOX_ID}`, headers: auth })
    const body = assertProblem(res, status, code)
    assert.equal(body.detail, `detail for ${code}`)
    assert.equal(body.title, ERRORS[code].title)
  })
}

test('retryAfter becomes a Retry-After header', async (t) => {
  const { app, service } = await setup(t)
  service.failWith('listMailboxes', new GatewayError('mailbox-locked', 'maildrop in use', { retryAfter: 30 }))
  const res = await app.inject({ url: '/v1/mailboxes', headers: auth })
  assertProblem(res, 409, 'mailbox-locked')
  assert.equal(res.headers['retry-after'], '30')
})

test('missing token → 401 unauthorized with WWW-Authenticate; the service is not asked', async (t) => {
  const { app, service } = await setup(t)
  const res = await app.inject({ url: '/v1/mailboxes' })
  assertProblem(res, 401, 'unauthorized')
  assert.match(String(res.headers['www-authenticate']), /^Bearer/)
  assert.equal(service.callsTo('listMailboxes').length, 0)
})

test('malformed Authorization headers → 401 unauthorized', async (t) => {
  const { app, service } = await setup(t)
  for (const header of ['Basic YWxpY2U6cHc=', 'Bearer', 'Bearer two tokens', 'good-token']) {
    const res = await app.inject({ url: '/v1/account', headers: { authorization: header } })
    assertProblem(res, 401, 'unauthorized')
  }
  assert.equal(service.callsTo('authenticate').length, 0)
})

test('a token the service rejects → 401 unauthorized, before validation or the handler', async (t) => {
  const { app, service } = await setup(t)
  const res = await app.inject({ url: `/v1/mailboxes/${INBOX_ID}/messages?limit=0`, headers: { authorization: 'Bearer tampered' } })
  assertProblem(res, 401, 'unauthorized')
  assert.equal(service.callsTo('listMessages').length, 0)
})

test('every /v1 route but POST /v1/sessions demands a token', async (t) => {
  const { app } = await setup(t)
  const urls = ['/v1/account', '/v1/mailboxes', `/v1/mailboxes/${INBOX_ID}`, `/v1/mailboxes/${INBOX_ID}/messages`,
    `/v1/messages/${MESSAGE_ID}`, `/v1/messages/${MESSAGE_ID}/raw`, `/v1/messages/${MESSAGE_ID}/attachments/2`]
  for (const url of urls) assertProblem(await app.inject({ url }), 401, 'unauthorized')
  assertProblem(await app.inject({ method: 'DELETE', url: '/v1/sessions/current' }), 401, 'unauthorized')
})

test('malformed JSON → 400 bad-request, without echoing the body', async (t) => {
  const { app } = await setup(t)
  const res = await app.inject({
    method: 'POST', url: '/v1/sessions', headers: { 'content-type': 'application/json' }, payload: '{"password": "hunter2-secret",',
  })
  const body = assertProblem(res, 400, 'bad-request')
  assert.doesNotMatch(res.body, /hunter2/)
  assert.equal(body.detail, 'Malformed JSON body')
})

test('a non-JSON content type → 415 unsupported-media-type', async (t) => {
  const { app } = await setup(t)
  const res = await app.inject({ method: 'POST', url: '/v1/sessions', headers: { 'content-type': 'text/plain' }, payload: 'hello' })
  assertProblem(res, 415, 'unsupported-media-type')
})

test('an empty JSON body → 400 bad-request', async (t) => {
  const { app } = await setup(t)
  const res = await app.inject({ method: 'POST', url: '/v1/sessions', headers: { 'content-type': 'application/json' }, payload: '' })
  assertProblem(res, 400, 'bad-request')
})

test('a body over BODY_LIMIT → 413 payload-too-large', async (t) => {
  const { app, service } = await setup(t, { BODY_LIMIT: '1kb' })
  const res = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { ...login, username: 'x'.repeat(2000) } })
  assertProblem(res, 413, 'payload-too-large')
  assert.equal(service.callsTo('createSession').length, 0)
})

test('invalid session bodies → 400 bad-request, naming the problem', async (t) => {
  const { app, service } = await setup(t)
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ ...login, accessToken: 'tok' }, /exactly one of password and accessToken/],
    [{ protocol: 'imap', host: 'h', username: 'u' }, /exactly one of password and accessToken/],
    [{ ...login, protocol: 'smtp' }, /protocol/],
    [{ ...login, port: 70000 }, /port/],
    [{ ...login, port: '993' }, /port/],
    [{ ...login, security: 'ssl' }, /security/],
    [{ ...login, ttl: 0 }, /ttl/],
    [{ ...login, extra: true }, /Unknown field in the request body/],
    [{ ...login, host: 'mail.example.com/evil' }, /host/],
  ]
  for (const [payload, detail] of cases) {
    const res = await app.inject({ method: 'POST', url: '/v1/sessions', payload })
    const body = assertProblem(res, 400, 'bad-request')
    assert.match(String(body.detail), detail)
  }
  assert.equal(service.callsTo('createSession').length, 0)
})

test('invalid list parameters → 400 bad-request', async (t) => {
  const { app, service } = await setup(t)
  const bad = ['limit=0', 'limit=201', 'limit=ten', 'limit=1&limit=2', 'cursor=not%20base64!', 'cursor=', 'unread=yes',
    'since=yesterday', 'before=2024-13-01', 'subject=', 'sort=date']
  for (const qs of bad) {
    const res = await app.inject({ url: `/v1/mailboxes/${INBOX_ID}/messages?${qs}`, headers: auth })
    assertProblem(res, 400, 'bad-request')
  }
  assert.equal(service.callsTo('listMessages').length, 0)
})

test('unknown query parameters are refused on every operation', async (t) => {
  const { app } = await setup(t)
  const res = await app.inject({ url: '/v1/account?verbose=1', headers: auth })
  const body = assertProblem(res, 400, 'bad-request')
  assert.equal(body.detail, "Unknown query parameter 'verbose'")
})

test('malformed ids → 400 bad-request', async (t) => {
  const { app, service } = await setup(t)
  for (const url of ['/v1/mailboxes/bad%2Fid', '/v1/messages/a.b', `/v1/messages/${'x'.repeat(MAX_ID_CHARS + 1)}`,
    `/v1/messages/${MESSAGE_ID}/attachments/a%20b`]) {
    const res = await app.inject({ url, headers: auth })
    assertProblem(res, 400, 'bad-request')
  }
  assert.equal(service.calls.filter(c => c.method !== 'authenticate').length, 0)
})

test('an unknown route → 404 problem+json; a wrong method → 405', async (t) => {
  const { app } = await setup(t)
  assertProblem(await app.inject({ url: '/v1/nothing-here' }), 404, 'not-found')
  assertProblem(await app.inject({ method: 'PUT', url: '/v1/account', headers: auth }), 405, 'method-not-allowed')
})

test('an unexpected error → 500 internal; no message or stack leaks, it is logged', async (t) => {
  const { app, service, logs } = await setup(t)
  const err = new Error('db password=hunter2 exploded')
  service.failWith('listMailboxes', err)
  const res = await app.inject({ url: '/v1/mailboxes', headers: auth })
  const body = assertProblem(res, 500, 'internal')
  assert.doesNotMatch(res.body, /hunter2|exploded|at .*\.ts/)
  assert.match(String(body.detail), /request id/)
  const id = String(res.headers['x-request-id'])
  const line = logs().split('\n').find(l => l.includes('"level":50') && l.includes(id))
  assert.ok(line, 'the 500 is logged at error level with the request id')
  assert.match(line, /exploded/)
})

test('URLs fastify refuses before routing → 400 problem+json that does not echo the path', async (t) => {
  const { app, service } = await setup(t)
  for (const url of ['/v1/messages/%zz', `/v1/messages/${'a'.repeat(3000)}`]) {
    const body = assertProblem(await app.inject({ url, headers: auth }), 400, 'bad-request')
    assert.doesNotMatch(String(body.detail), /%zz|aaaa/)
  }
  assert.equal(service.callsTo('getMessage').length, 0)
})

test('the HTTP idle timeout outlasts every wait a request can make, so the 429 or 504 that ends one reaches the client', async (t) => {
  const { app, config } = await setup(t)
  const wait = operationTimeoutMs(config.upstreamTimeoutMs)
  // a pooled connection, the parse budget and the operation, twice over (a retried read)
  assert.ok(app.server.timeout > 2 * 3 * wait, `server idle timeout ${app.server.timeout} ms against waits of ${wait} ms each`)
})
