import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { createLogger } from '../../src/logger.ts'
import { GatewayError } from '../../src/mail/errors.ts'
import { GOOD_TOKEN, INBOX_ID } from './fake-service.ts'
import { auth, setup } from './helpers.ts'

const PASSWORD = 'Tr0ub4dor&3-never-log-me'
const ACCESS_TOKEN = 'ya29.never-log-this-oauth-token'

test('credentials never reach the logs, whatever happens to the request', async (t) => {
  const { app, service, logs } = await setup(t)
  const login = { protocol: 'imap', host: 'mail.example.com', username: 'alice', password: PASSWORD }

  assert.equal((await app.inject({ method: 'POST', url: '/v1/sessions', payload: login })).statusCode, 201)
  // rejected by the mail server
  const failed = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { ...login, password: 'wrong' } })
  assert.equal(failed.statusCode, 401)
  // malformed JSON quoting the password (Node's SyntaxError would echo it)
  const broken = await app.inject({
    method: 'POST', url: '/v1/sessions', headers: { 'content-type': 'application/json' }, payload: `{"password":"${PASSWORD}" "x"`,
  })
  assert.equal(broken.statusCode, 400)
  // schema violations around the password
  for (const payload of [{ ...login, accessToken: ACCESS_TOKEN }, { ...login, port: PASSWORD }, { ...login, [PASSWORD]: 1 }]) {
    assert.equal((await app.inject({ method: 'POST', url: '/v1/sessions', payload })).statusCode, 400)
  }
  // too large
  const big = await setup(t, { BODY_LIMIT: '200' })
  await big.app.inject({ method: 'POST', url: '/v1/sessions', payload: { ...login, username: 'x'.repeat(300) } })
  // an unexpected failure carrying the input
  service.failWith('createSession', new Error('boom'))
  assert.equal((await app.inject({ method: 'POST', url: '/v1/sessions', payload: login })).statusCode, 500)
  // the bearer token on authenticated calls
  await app.inject({ url: '/v1/mailboxes', headers: auth })
  await app.inject({ url: '/v1/mailboxes', headers: { authorization: `Bearer ${ACCESS_TOKEN}` } })

  const all = logs() + big.logs()
  assert.ok(all.length > 1000, 'requests were logged')
  assert.ok(!all.includes(PASSWORD), 'password in logs')
  assert.ok(!all.includes(ACCESS_TOKEN), 'access token in logs')
  assert.ok(!all.includes(GOOD_TOKEN), 'bearer token in logs')
})

test('query strings are not logged (search terms), only the path', async (t) => {
  const { app, logs } = await setup(t)
  await app.inject({ url: `/v1/mailboxes/${INBOX_ID}/messages?subject=very-private-subject`, headers: auth })
  assert.match(logs(), new RegExp(`/v1/mailboxes/${INBOX_ID}/messages`))
  assert.doesNotMatch(logs(), /very-private-subject/)
})

test('4xx are logged below error level, upstream 5xx at warn, only the gateway\'s own faults at error', async (t) => {
  const { app, service, logs } = await setup(t)
  service.failWith('getMailbox', new GatewayError('not-found', 'nope'))
  service.failWith('listMailboxes', new GatewayError('upstream-timeout', 'slow server'))
  service.failWith('getMessage', new Error('a bug'))
  const notFound = await app.inject({ url: `/v1/mailboxes/${INBOX_ID}`, headers: auth })
  const timeout = await app.inject({ url: '/v1/mailboxes', headers: auth })
  const bug = await app.inject({ url: '/v1/messages/AQKqqqqqqqoAAAABAAAAB0lOQk9Y', headers: auth })
  const lines = logs().trim().split('\n').map(l => JSON.parse(l) as { level: number, reqId: string, code?: string, err?: { stack?: string } })
  const of = (id: unknown, code: string) => lines.filter(l => l.reqId === id && l.code === code)
  const nf = of(notFound.headers['x-request-id'], 'not-found')
  const to = of(timeout.headers['x-request-id'], 'upstream-timeout')
  const internal = lines.filter(l => l.reqId === bug.headers['x-request-id'] && l.level >= 50)
  assert.equal(nf.length, 1)
  assert.ok(nf[0]!.level < 50)
  assert.equal(to.length, 1)
  assert.equal(to[0]!.level, 40)
  assert.equal(to[0]!.err, undefined, 'no stack for an upstream failure')
  assert.equal(internal.length, 1)
  assert.equal(internal[0]!.level, 50)
  assert.ok(internal[0]!.err?.stack, 'the gateway\'s own fault keeps its stack')
})

test('the logger redacts credential-shaped fields anywhere they are logged', () => {
  const out: string[] = []
  const sink = new Writable({ write (c: Buffer, _e, done) { out.push(c.toString()); done() } })
  const log = createLogger('info', sink)
  log.info({
    password: PASSWORD,
    settings: { username: 'alice', password: PASSWORD },
    auth: { user: 'alice', pass: PASSWORD, accessToken: ACCESS_TOKEN },
    req: { headers: { authorization: `Bearer ${GOOD_TOKEN}` } },
    body: { password: PASSWORD },
    nested: { deeper: { token: GOOD_TOKEN } },
  }, 'x')
  const line = out.join('')
  assert.ok(!line.includes(PASSWORD))
  assert.ok(!line.includes(ACCESS_TOKEN))
  assert.ok(!line.includes(GOOD_TOKEN))
  assert.ok(!line.includes('alice'), 'user names are redacted too')
  assert.match(line, /\[redacted\]/)
})
