/**
 * Introspection needs no token and costs milliseconds of CPU: its answer is
 * kept per schema (the same request is answered without running GraphQL
 * again), and GraphQL requests that do not authenticate are rate limited per
 * client address.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { getIntrospectionQuery } from 'graphql'
import { IntrospectionCache } from '../../src/graphql/introspection-cache.ts'
import { IMAP_TOKEN } from './fake-data.ts'
import { build, codes, gql } from './helpers.ts'

const INTROSPECTION = getIntrospectionQuery()

test('the introspection answer is kept: a repeat is the same answer, served without running GraphQL', async (t) => {
  const introspection = new IntrospectionCache()
  const { app } = await build(t, { introspection })
  const first = await gql(app, INTROSPECTION)
  assert.equal(first.status, 200)
  assert.ok(first.data?.__schema?.types?.length > 10)
  assert.equal(introspection.hits, 0)
  const again = await gql(app, INTROSPECTION)
  assert.equal(introspection.hits, 1, 'served from the memo')
  assert.deepEqual(again.data, first.data)
  assert.equal(again.raw, first.raw)
  // with a token too: the answer does not depend on the caller
  await gql(app, INTROSPECTION, { token: IMAP_TOKEN })
  assert.equal(introspection.hits, 2)
})

test('only answers of introspection-only operations without errors are kept', async (t) => {
  const introspection = new IntrospectionCache()
  const { app } = await build(t, { introspection })
  for (let i = 0; i < 2; i++) await gql(app, '{ __typename account { id } }', { token: IMAP_TOKEN })
  for (let i = 0; i < 2; i++) await gql(app, '{ __type(name: $n) { name } }')
  for (let i = 0; i < 2; i++) await gql(app, 'query A { __typename } query B { account { id } }')
  assert.equal(introspection.hits, 0)
  await gql(app, '{ __type(name: "Message") { name } }')
  const kept = await gql(app, '{ __type(name: "Message") { name } }')
  assert.deepEqual(kept.data, { __type: { name: 'Message' } })
  assert.equal(introspection.hits, 1)
})

test('requests without a valid token are limited per address; a valid token is never refused, a made-up one is', async (t) => {
  const { app } = await build(t, { anonymousPerMinute: 3, graphiql: true })
  // GraphiQL's static page and scripts are not GraphQL requests
  for (let i = 0; i < 5; i++) assert.equal((await app.inject('/graphiql')).statusCode, 200)
  // authenticated requests do not count
  for (let i = 0; i < 5; i++) assert.equal((await gql(app, '{ account { id } }', { token: IMAP_TOKEN })).status, 200)
  for (let i = 0; i < 3; i++) assert.equal((await gql(app, '{ __typename }')).status, 200, `anonymous request ${i + 1}`)
  const res = await app.inject({ method: 'POST', url: '/graphql', payload: { query: '{ __typename }' } })
  assert.equal(res.statusCode, 429)
  assert.deepEqual(codes({ status: 429, data: null, errors: res.json().errors, raw: res.body }), ['rate-limited'])
  const retry = Number(res.headers['retry-after'])
  assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`)
  assert.deepEqual(codes(await gql(app, '{ __typename }', { token: 'made-up' })), ['rate-limited'])
  assert.deepEqual(codes(await gql(app, 'mutation { createSession(input: { protocol: imap, host: "h", username: "u", password: "p" }) { token } }')), ['rate-limited'])
  const ok = await gql(app, '{ account { id } }', { token: IMAP_TOKEN })
  assert.equal(ok.status, 200)
  assert.ok(ok.data?.account?.id)
})
