/**
 * HTTP semantics every client meets before any mail is read: HEAD beside
 * every GET, 405 with Allow for a wrong method, 415 for a body that is not
 * JSON, an empty JSON body where none is needed, and the HTTP parser's own
 * refusals (431, 400) as problem+json on a real socket.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import { test } from 'node:test'
import type { LightMyRequestResponse } from 'fastify'
import { listOperations, loadOpenApi } from '../../src/http/openapi.ts'
import { INBOX_ID, MESSAGE_ID, RAW } from './fake-service.ts'
import { auth, setup } from './helpers.ts'

function assertProblem (res: LightMyRequestResponse, status: number, code: string): Record<string, string> {
  assert.equal(res.statusCode, status, res.body)
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/)
  assert.equal(res.json().code, code)
  return res.json()
}

const URLS: Record<string, string> = {
  '/v1/account': '/v1/account',
  '/v1/mailboxes': '/v1/mailboxes',
  '/v1/mailboxes/{mailboxId}': `/v1/mailboxes/${INBOX_ID}`,
  '/v1/mailboxes/{mailboxId}/messages': `/v1/mailboxes/${INBOX_ID}/messages`,
  '/v1/messages/{messageId}': `/v1/messages/${MESSAGE_ID}`,
  '/v1/messages/{messageId}/raw': `/v1/messages/${MESSAGE_ID}/raw`,
  '/v1/messages/{messageId}/attachments/{attachmentId}': `/v1/messages/${MESSAGE_ID}/attachments/2`,
}

test('HEAD answers every GET operation with its status and headers, no body', async (t) => {
  const { app, service } = await setup(t)
  // an event stream never ends, so its HEAD would have to open a subscription to know its
  // status: GET /v1/events alone answers HEAD with 405 and Allow: GET (checked below)
  const gets = listOperations(loadOpenApi()).filter(o => o.method === 'GET' && o.path !== '/v1/events')
  assert.ok(gets.length >= 10)
  const eventsHead = await app.inject({ method: 'HEAD', url: '/v1/events', headers: auth })
  assert.equal(eventsHead.statusCode, 405)
  assert.equal(eventsHead.headers.allow, 'GET')
  for (const { path } of gets) {
    const url = URLS[path] ?? path
    const get = await app.inject({ method: 'GET', url, headers: auth })
    const head = await app.inject({ method: 'HEAD', url, headers: auth })
    assert.equal(head.statusCode, get.statusCode, `HEAD ${url}: ${head.body}`)
    assert.equal(head.body, '', `HEAD ${url} has no body`)
    assert.equal(head.headers['content-type'], get.headers['content-type'], url)
    if (get.headers['content-length'] !== undefined) assert.equal(head.headers['content-length'], get.headers['content-length'], url)
  }
  // a download's HEAD hands the upstream stream back unread, and says how long the body is
  const head = await app.inject({ method: 'HEAD', url: URLS['/v1/messages/{messageId}/raw']!, headers: auth })
  assert.equal(head.headers['content-length'], String(RAW.length))
  assert.equal(service.lastStream?.destroyed, true)
  // and a HEAD without a token is refused as the GET is
  assert.equal((await app.inject({ method: 'HEAD', url: '/v1/account' })).statusCode, 401)
})

test('a method a path does not serve is 405 with Allow; an unknown path stays 404', async (t) => {
  const { app } = await setup(t)
  const cases: Array<[string, string, string]> = [
    ['PUT', '/v1/account', 'GET, HEAD'],
    ['POST', '/healthz', 'GET, HEAD'],
    ['PUT', '/v1/mailboxes', 'GET, HEAD, POST'],
    ['GET', '/v1/sessions', 'POST'],
    ['POST', '/v1/sessions/current', 'DELETE'],
    ['PATCH', '/graphql', 'GET, HEAD, POST'],
    ['OPTIONS', '/v1/mailboxes', 'GET, HEAD, POST'],
  ]
  for (const [method, url, allow] of cases) {
    const res = await app.inject({ method: method as 'PUT', url, headers: auth })
    const body = assertProblem(res, 405, 'method-not-allowed')
    assert.equal(res.headers.allow, allow, `${method} ${url}`)
    assert.match(body.detail!, new RegExp(`^${method} is not served here`))
  }
  assertProblem(await app.inject({ method: 'PUT', url: '/v1/nothing-here', headers: auth }), 404, 'not-found')
})

test('a body that is not JSON is 415 and says so', async (t) => {
  const { app, service } = await setup(t)
  const bodies: Array<[string, string]> = [
    ['text/plain', '{"protocol":"imap","host":"mail.example.com","username":"a","password":"p"}'],
    ['application/x-www-form-urlencoded', 'protocol=imap&host=mail.example.com&username=a&password=p'],
    ['multipart/form-data; boundary=x', '--x--\r\n'],
  ]
  for (const [type, payload] of bodies) {
    const res = await app.inject({ method: 'POST', url: '/v1/sessions', headers: { 'content-type': type }, payload })
    const body = assertProblem(res, 415, 'unsupported-media-type')
    assert.match(String(body.detail), /^Content-Type must be application\/json/, type)
  }
  assert.equal(service.callsTo('createSession').length, 0)
})

test('an empty JSON body is no body where none is needed, and still a 400 where one is', async (t) => {
  const { app, service } = await setup(t)
  const res = await app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: { ...auth, 'content-type': 'application/json' } })
  assert.equal(res.statusCode, 204, res.body)
  assert.equal(service.callsTo('revokeSession').length, 1)
  const login = await app.inject({ method: 'POST', url: '/v1/sessions', headers: { 'content-type': 'application/json' } })
  assertProblem(login, 400, 'bad-request')
  // a body that is there is still parsed (and refused when malformed)
  assertProblem(await app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: { ...auth, 'content-type': 'application/json' }, payload: '{' }), 400, 'bad-request')
})

/** Raw bytes to a listening app; the whole answer once the server closes. */
async function rawExchange (port: number, bytes: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', reject)
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')))
    socket.end(bytes)
  })
}

function parseRaw (answer: string): { status: number, headers: string, body: Record<string, unknown> } {
  const [head = '', body = ''] = answer.split('\r\n\r\n')
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), headers: head.toLowerCase(), body: JSON.parse(body) }
}

test('the HTTP parser\'s refusals are problem+json: 431 for huge header fields, 400 for malformed HTTP', async (t) => {
  const { app } = await setup(t)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as net.AddressInfo).port

  const huge = parseRaw(await rawExchange(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`))
  assert.equal(huge.status, 431)
  assert.match(huge.headers, /content-type: application\/problem\+json/)
  assert.deepEqual({ status: huge.body.status, code: huge.body.code }, { status: 431, code: 'headers-too-large' })

  const bad = parseRaw(await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost x\r\n\r\n'))
  assert.equal(bad.status, 400)
  assert.match(bad.headers, /content-type: application\/problem\+json/)
  assert.deepEqual({ status: bad.body.status, code: bad.body.code }, { status: 400, code: 'bad-request' })
})
