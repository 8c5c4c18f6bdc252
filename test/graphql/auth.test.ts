import { test } from 'node:test'
import assert from 'node:assert/strict'
import { build, codes, gql } from './helpers.ts'
import { IMAP_TOKEN, imapAccount, pop3Account } from './fake-data.ts'

const ACCOUNT = '{ account { id username } }'

test('no Authorization header → unauthorized (401), service never asked for data', async (t) => {
  const { app, fake } = await build(t)
  const res = await gql(app, ACCOUNT)
  assert.deepEqual(codes(res), ['unauthorized'])
  assert.equal(res.status, 401)
  assert.equal(res.data, null)
  assert.equal(fake.count('authenticate'), 0)
})

test('malformed Authorization header → unauthorized', async (t) => {
  const { app } = await build(t)
  for (const authorization of ['Basic YWxpY2U6c2VjcmV0', 'Bearer', `Bearer ${IMAP_TOKEN} extra`, IMAP_TOKEN]) {
    const res = await gql(app, ACCOUNT, { authorization })
    assert.deepEqual(codes(res), ['unauthorized'], authorization)
  }
})

test('invalid or revoked token → unauthorized, on a nullable field too', async (t) => {
  const { app, fake } = await build(t)
  const res = await gql(app, '{ mailbox(id: "abc") { id } }', { token: 'forged' })
  assert.deepEqual(codes(res), ['unauthorized'])
  assert.deepEqual(res.data, { mailbox: null })
  fake.revoked.add(IMAP_TOKEN)
  assert.deepEqual(codes(await gql(app, ACCOUNT, { token: IMAP_TOKEN })), ['unauthorized'])
})

test('scheme is case-insensitive; a good token reaches the account', async (t) => {
  const { app } = await build(t)
  const res = await gql(app, ACCOUNT, { authorization: `bearer ${IMAP_TOKEN}` })
  assert.equal(res.errors, undefined)
  assert.deepEqual(res.data, { account: { id: imapAccount.id, username: imapAccount.username } })
})

const CREATE = `mutation ($input: CreateSessionInput!) {
  createSession(input: $input) { token expiresAt account { id protocol port capabilities { top uidl loginDelay sasl } } }
}`

test('createSession needs no token and returns the grant', async (t) => {
  const { app, fake } = await build(t)
  const input = { protocol: 'pop3', host: 'pop.example.com', port: 995, security: 'tls', username: 'bob', password: 'secret', ttl: 600 }
  const res = await gql(app, CREATE, { variables: { input } })
  assert.equal(res.errors, undefined)
  assert.equal(res.status, 200)
  assert.deepEqual(res.data?.createSession.account, {
    id: pop3Account.id, protocol: 'pop3', port: 995, capabilities: { top: true, uidl: true, loginDelay: 60, sasl: ['PLAIN', 'XOAUTH2'] },
  })
  assert.equal(typeof res.data?.createSession.token, 'string')
  assert.equal(fake.count('authenticate'), 0)
  assert.deepEqual(fake.calls.find(c => c.method === 'createSession')?.args, [input])
})

test('createSession: rejected login → auth-failed; bad input → bad-request without calling the service', async (t) => {
  const { app, fake } = await build(t)
  const base = { protocol: 'imap', host: 'imap.example.com', username: 'alice' }
  assert.deepEqual(codes(await gql(app, CREATE, { variables: { input: { ...base, password: 'wrong' } } })), ['auth-failed'])
  const before = fake.count('createSession')
  for (const bad of [
    { ...base },
    { ...base, password: 'secret', accessToken: 'oauth' },
    { ...base, password: 'secret', port: 70000 },
    { ...base, password: 'secret', ttl: 86401 },
    { ...base, host: 'evil.example.com/x', password: 'secret' },
    { ...base, protocol: 'smtp', password: 'secret' },
  ]) {
    const res = await gql(app, CREATE, { variables: { input: bad } })
    assert.deepEqual(codes(res), ['bad-request'], JSON.stringify(bad))
  }
  assert.equal(fake.count('createSession'), before)
})

test('revokeSession revokes the bearer token; it needs one', async (t) => {
  const { app } = await build(t)
  assert.deepEqual(codes(await gql(app, 'mutation { revokeSession }')), ['unauthorized'])
  const res = await gql(app, 'mutation { revokeSession }', { token: IMAP_TOKEN })
  assert.deepEqual(res.data, { revokeSession: true })
  assert.deepEqual(codes(await gql(app, ACCOUNT, { token: IMAP_TOKEN })), ['unauthorized'])
})

test('a malformed createSession input never echoes the password (body or log)', async (t) => {
  const { app, logs } = await build(t)
  const secret = 'hunter2-do-not-echo'
  const bad = [
    { protocol: 'imap', host: 'mail.example.com', password: secret }, // username missing
    { protocol: 'imap', host: 'mail.example.com', username: 'ann', password: secret, extra: 1 }, // unknown field
    { protocol: 'imap', host: 'mail.example.com', username: 'ann', password: 12345678901 }, // wrong type
  ]
  for (const input of bad) {
    const res = await gql(app, CREATE, { variables: { input } })
    assert.ok(codes(res).length > 0 && codes(res).every(c => c === 'bad-request'), res.raw)
    assert.match(res.errors?.[0]?.message ?? '', /\$input/)
    assert.ok(!res.raw.includes(secret) && !res.raw.includes('12345678901'), res.raw)
  }
  const inline = await gql(app, `mutation { createSession(input: { protocol: imap, host: "h", password: "${secret}" }) { token } }`)
  assert.ok(codes(inline).length > 0 && codes(inline).every(c => c === 'bad-request'), inline.raw)
  assert.ok(!inline.raw.includes(secret))
  assert.ok(logs.length > 0)
  assert.ok(!logs.join('\n').includes(secret), 'no log line carries the password')
})
