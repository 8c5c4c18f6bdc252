import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ERRORS, GatewayError, type ErrorCode } from '../../src/mail/errors.ts'
import type { Mailbox } from '../../src/mail/types.ts'
import { build, codes, gql } from './helpers.ts'
import { IMAP_TOKEN } from './fake-data.ts'

const SECRET = 'hunter2-at-10.1.2.3'

function assertNoLeak (raw: string): void {
  assert.ok(!raw.includes(SECRET), raw)
  assert.ok(!raw.includes('fake-service.ts'), raw)
  assert.ok(!/\bat .*:\d+:\d+/.test(raw), `stack trace in ${raw}`)
}

test('a plain Error from the service → internal, generic message, logged, nothing leaked', async (t) => {
  const { app, fake, logs } = await build(t)
  fake.failWith('listMailboxes', new Error(`connect failed: password ${SECRET}`))
  const res = await gql(app, '{ mailboxes { id } }', { token: IMAP_TOKEN })
  assert.deepEqual(codes(res), ['internal'])
  assert.equal(res.errors?.[0]?.message, 'Internal error')
  assert.equal(res.status, 500)
  assertNoLeak(res.raw)
  assert.ok(logs.some(l => l.includes('"level":50') && l.includes('GraphQL request failed')), 'the real error is logged')
})

test('GatewayError("internal") is just as generic, and a schema violation by the service is internal', async (t) => {
  const { app, fake } = await build(t)
  fake.failWith('getMailbox', new GatewayError('internal', `cache ${SECRET} corrupt`))
  const one = await gql(app, '{ mailbox(id: "abc") { id } }', { token: IMAP_TOKEN })
  assert.deepEqual(codes(one), ['internal'])
  assertNoLeak(one.raw)

  fake.listMailboxes = async () => [{ id: 'x', name: null } as unknown as Mailbox]
  const bad = await gql(app, '{ mailboxes { id name } }', { token: IMAP_TOKEN })
  assert.deepEqual(codes(bad), ['internal'])
  assert.ok(!bad.raw.includes('non-nullable'), bad.raw)
})

test('every GatewayError keeps its code, detail and status; rate-limited carries retryAfter', async (t) => {
  const { app, fake } = await build(t)
  const all = Object.keys(ERRORS).filter(c => c !== 'internal') as ErrorCode[]
  for (const code of all) {
    fake.failWith('listMailboxes', new GatewayError(code, `detail for ${code}`, code === 'rate-limited' ? { retryAfter: 7 } : {}))
    const res = await gql(app, '{ mailboxes { id } }', { token: IMAP_TOKEN })
    assert.deepEqual(codes(res), [code])
    assert.equal(res.errors?.[0]?.message, `detail for ${code}`)
    assert.equal(res.status, ERRORS[code].status, code)
    if (code === 'rate-limited') assert.equal(res.errors?.[0]?.extensions?.retryAfter, 7)
  }
})

test('partial data keeps status 200 with the error beside it', async (t) => {
  const { app, fake } = await build(t)
  fake.failWith('getMailbox', new GatewayError('upstream-unavailable'))
  const res = await gql(app, '{ account { username } mailbox(id: "abc") { id } }', { token: IMAP_TOKEN })
  assert.equal(res.status, 200)
  assert.deepEqual(res.data, { account: { username: 'alice' }, mailbox: null })
  assert.deepEqual(codes(res), ['upstream-unavailable'])
  assert.deepEqual(res.errors?.[0]?.path, ['mailbox'])
})

test('malformed requests → bad-request (400)', async (t) => {
  const { app } = await build(t)
  for (const query of ['{ account { id ', '{ nope }', '{ account { id password } }', 'mutation { createSession { token } }']) {
    const res = await gql(app, query, { token: IMAP_TOKEN })
    assert.ok(codes(res).length >= 1 && codes(res).every(c => c === 'bad-request'), res.raw)
    assert.equal(res.status, 400, query)
  }
  const json = await app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' }, payload: '{"query": ' })
  assert.equal(json.statusCode, 400)
  assert.deepEqual(json.json().errors.map((e: { extensions: { code: string } }) => e.extensions.code), ['bad-request'])
  const noQuery = await app.inject({ method: 'POST', url: '/graphql', payload: { variables: {} } })
  assert.equal(noQuery.json().errors[0].extensions.code, 'bad-request')
})

test('fastify\'s own refusals on /graphql carry the catalogue\'s code and status, as on REST', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/xml' }, payload: '<q/>' })
  assert.equal(res.statusCode, 415)
  assert.deepEqual(res.json().errors.map((e: { extensions: { code: string } }) => e.extensions.code), ['unsupported-media-type'])
})

test('the bearer header is read by the same rules as REST: a malformed one never reaches the service', async (t) => {
  const { app, fake } = await build(t)
  const before = fake.count('authenticate')
  for (const authorization of ['Bearer a"b', `Bearer ${'x'.repeat(20_000)}`]) {
    const res = await app.inject({ method: 'POST', url: '/graphql', headers: { authorization }, payload: { query: '{ account { id } }' } })
    assert.deepEqual(res.json().errors.map((e: { extensions: { code: string } }) => e.extensions.code), ['unauthorized'])
  }
  assert.equal(fake.count('authenticate'), before)
})

test('mutations are refused over GET; queries over GET work', async (t) => {
  const { app } = await build(t)
  const get = (query: string) => app.inject({ method: 'GET', url: '/graphql', query: { query }, headers: { authorization: `Bearer ${IMAP_TOKEN}` } })
  const ok = await get('{ account { username } }')
  assert.equal(ok.statusCode, 200)
  assert.deepEqual(ok.json().data, { account: { username: 'alice' } })
  const mut = await get('mutation { revokeSession }')
  assert.equal(mut.json().errors[0].extensions.code, 'bad-request')
  assert.ok(mut.statusCode >= 400)
})
