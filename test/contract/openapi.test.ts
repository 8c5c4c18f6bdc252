/**
 * openapi.yaml against the running app: every documented operation is served,
 * every served /v1 route is documented, and what the routes answer conforms.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { problemOf } from '../../src/http/errors.ts'
import { deref, getOperation, listOperations, loadOpenApi, requiresBearer, toOpenApiPath } from '../../src/http/openapi.ts'
import { ERRORS, GatewayError, statusesOf } from '../../src/mail/errors.ts'
import { MAX_ID_CHARS } from '../../src/mail/ids.ts'
import { SESSION_LIMITS } from '../../src/mail/sessions.ts'
import type { ErrorCode } from '../../src/mail/errors.ts'
import { INBOX_ID, message, MESSAGE_ID } from '../http/fake-service.ts'
import { auth, setup } from '../http/helpers.ts'
import { assertResponse, validateResponse } from './openapi-validator.ts'

const doc = loadOpenApi()
const key = (method: string, path: string): string => `${method.toUpperCase()} ${path}`

test('every $ref in openapi.yaml resolves', () => {
  assert.doesNotThrow(() => deref(doc, doc))
})

test('routes and document agree, both ways', async (t) => {
  const { app } = await setup(t)
  // HEAD is implied by GET (RFC 9110 §9.3.2): fastify serves it beside every GET route
  const served = new Set(app.registeredRoutes().filter(r => r.method !== 'HEAD').map(r => key(r.method, toOpenApiPath(r.url))))
  const documented = new Set(listOperations(doc).map(o => key(o.method, o.path)))
  const missing = [...documented].filter(k => !served.has(k))
  assert.deepEqual(missing, [], 'documented but not served')
  const undocumented = [...served].filter(k => {
    const path = k.split(' ')[1] ?? ''
    return (path.startsWith('/v1/') || path === '/healthz' || path === '/readyz') && !documented.has(k)
  })
  assert.deepEqual(undocumented, [], 'served but not documented')
})

test('Problem.code is exactly the error catalogue', () => {
  const problem = doc.components.schemas?.Problem as { properties: { code: { enum: string[] } } }
  assert.deepEqual([...problem.properties.code.enum].sort(), Object.keys(ERRORS).sort())
})

test('each error response admits the catalogue entries of its status, and only those', () => {
  for (const { method, path } of listOperations(doc)) {
    const responses = getOperation(doc, method, path).responses
    const problems = Object.entries(responses).filter(([, r]) => deref(doc, r).content?.['application/problem+json'] !== undefined)
    assert.ok(path === '/readyz' || Object.keys(responses).every(s => Number(s) < 400 || problems.some(([p]) => p === s)),
      `${method} ${path}: every error status is problem+json`)
    for (const status of problems.map(([s]) => Number(s))) {
      const codes = (Object.keys(ERRORS) as ErrorCode[]).filter(c => statusesOf(c).includes(status))
      const admitted = codes.filter(c => validateResponse(path, method, status, problemOf(c), 'application/problem+json').length === 0)
      assert.ok(admitted.length > 0, `${method} ${path} ${status}: no catalogue code fits`)
      for (const other of (Object.keys(ERRORS) as ErrorCode[]).filter(c => !statusesOf(c).includes(status))) {
        const wrong = { ...problemOf(other), status }
        assert.notDeepEqual(validateResponse(path, method, status, wrong, 'application/problem+json'), [],
          `${method} ${path} ${status} must refuse code ${other}`)
      }
    }
  }
})

test('every /v1 operation but POST /v1/sessions requires the bearer token, and declares 400/401/429/500', () => {
  for (const { method, path } of listOperations(doc)) {
    const bearer = requiresBearer(doc, method, path)
    if (!path.startsWith('/v1/')) {
      assert.equal(bearer, false, `${method} ${path}`)
      continue
    }
    if (method === 'GET' && path === '/v1/events') {
      // a bearer token or a ticket (EventSource cannot send a header): the route checks either
      assert.deepEqual(getOperation(doc, method, path).security, [{ bearerAuth: [] }, { eventTicket: [] }])
    } else assert.equal(bearer, !(method === 'POST' && path === '/v1/sessions'), `${method} ${path}`)
    for (const status of ['400', '401', '429', '500']) {
      assert.ok(getOperation(doc, method, path).responses[status], `${method} ${path} lacks ${status}`)
    }
  }
})

test('the validator itself refuses non-conforming bodies', () => {
  const path = '/v1/messages/{messageId}'
  assert.deepEqual(validateResponse(path, 'GET', 200, message, 'application/json'), [])
  const { html: _html, ...noHtml } = message
  assert.notDeepEqual(validateResponse(path, 'GET', 200, noHtml, 'application/json'), [])
  assert.notDeepEqual(validateResponse(path, 'GET', 200, { ...message, hasAttachment: null }, 'application/json'), [])
  assert.notDeepEqual(validateResponse(path, 'GET', 200, { ...message, extra: 1 }, 'application/json'), [])
  assert.notDeepEqual(validateResponse(path, 'GET', 200, { ...message, sentAt: 'yesterday' }, 'application/json'), [])
  assert.notDeepEqual(validateResponse(path, 'GET', 418, {}, 'application/json'), [])
  assert.notDeepEqual(validateResponse(path, 'GET', 200, message, 'text/html'), [])
  const list = '/v1/mailboxes/{mailboxId}/messages'
  const page = { items: [{ ...message }], nextCursor: null, total: 1 }
  assert.notDeepEqual(validateResponse(list, 'GET', 200, page, 'application/json'), [], 'a full Message is not a MessageSummary')
})

test('responses from every route conform to openapi.yaml', async (t) => {
  const { app, service } = await setup(t)
  const ok: Array<[string, string, string, Record<string, unknown>?]> = [
    ['POST', '/v1/sessions', '/v1/sessions', { protocol: 'imap', host: 'mail.example.com', username: 'a', password: 'p' }],
    ['GET', '/v1/account', '/v1/account'],
    ['GET', '/v1/mailboxes', '/v1/mailboxes'],
    ['GET', '/v1/mailboxes/{mailboxId}', `/v1/mailboxes/${INBOX_ID}`],
    ['GET', '/v1/mailboxes/{mailboxId}/messages', `/v1/mailboxes/${INBOX_ID}/messages?limit=2`],
    ['GET', '/v1/messages/{messageId}', `/v1/messages/${MESSAGE_ID}`],
    ['GET', '/v1/messages/{messageId}/raw', `/v1/messages/${MESSAGE_ID}/raw`],
    ['GET', '/v1/messages/{messageId}/attachments/{attachmentId}', `/v1/messages/${MESSAGE_ID}/attachments/2`],
    ['DELETE', '/v1/sessions/current', '/v1/sessions/current'],
    ['GET', '/healthz', '/healthz'],
    ['GET', '/readyz', '/readyz'],
    ['GET', '/docs', '/docs'],
  ]
  for (const [method, path, url, payload] of ok) {
    const res = await app.inject({ method: method as 'GET', url, headers: auth, ...(payload === undefined ? {} : { payload }) })
    assert.ok(res.statusCode < 300, `${method} ${url}: ${res.statusCode} ${res.body}`)
    assertResponse(res, method, path)
  }

  const notModified = await app.inject({ url: `/v1/messages/${MESSAGE_ID}`, headers: { ...auth, 'if-none-match': '*' } })
  assertResponse(notModified, 'GET', '/v1/messages/{messageId}')

  // Error responses as served: validation, auth, and service failures.
  assertResponse(await app.inject({ url: `/v1/mailboxes/${INBOX_ID}/messages?limit=0`, headers: auth }), 'GET', '/v1/mailboxes/{mailboxId}/messages')
  assertResponse(await app.inject({ url: '/v1/account' }), 'GET', '/v1/account')
  const byStatus: Array<[ErrorCode, string, string]> = [
    ['not-found', '/v1/messages/{messageId}', `/v1/messages/${MESSAGE_ID}`],
    ['stale-id', '/v1/messages/{messageId}', `/v1/messages/${MESSAGE_ID}`],
    ['mailbox-locked', '/v1/messages/{messageId}', `/v1/messages/${MESSAGE_ID}`],
    ['upstream-unavailable', '/v1/messages/{messageId}', `/v1/messages/${MESSAGE_ID}`],
    ['upstream-timeout', '/v1/messages/{messageId}', `/v1/messages/${MESSAGE_ID}`],
    ['host-not-allowed', '/v1/messages/{messageId}', `/v1/messages/${MESSAGE_ID}`],
    ['auth-failed', '/v1/messages/{messageId}', `/v1/messages/${MESSAGE_ID}`],
  ]
  for (const [code, path, url] of byStatus) {
    service.failWith('getMessage', new GatewayError(code, 'x'))
    const res = await app.inject({ url, headers: auth })
    assert.equal(res.json().code, code)
    assertResponse(res, 'GET', path)
  }
  service.failWith('listMessages', new GatewayError('unsupported', 'POP3 cannot search'))
  assertResponse(await app.inject({ url: `/v1/mailboxes/${INBOX_ID}/messages?subject=x`, headers: auth }), 'GET', '/v1/mailboxes/{mailboxId}/messages')
  service.failWith('createSession', new GatewayError('auth-failed'))
  assertResponse(await app.inject({ method: 'POST', url: '/v1/sessions', payload: ok[0]![3] }), 'POST', '/v1/sessions')
})

test('Id states the longest id the core accepts (and the router routes)', () => {
  assert.equal((doc.components.schemas?.Id as { maxLength?: number }).maxLength, MAX_ID_CHARS)
})

test('CreateSessionRequest states the core\'s session input limits', () => {
  const schema = doc.components.schemas?.CreateSessionRequest as { properties: Record<string, { maxLength?: number }> }
  for (const [field, max] of Object.entries(SESSION_LIMITS)) {
    assert.equal(schema.properties[field]?.maxLength, max, field)
  }
})
