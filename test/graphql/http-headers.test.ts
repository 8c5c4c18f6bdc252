/**
 * HTTP headers of GraphQL answers: never cached (createSession's carries a
 * token), and a 401 names its scheme, as on REST.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setup } from '../http/helpers.ts'
import { build } from './helpers.ts'
import { IMAP_TOKEN } from './fake-data.ts'

const LOGIN = 'mutation { createSession(input: { protocol: imap, host: "mail.example.com", username: "alice", password: "secret" }) { token } }'

test('every /graphql answer is Cache-Control: no-store, the token-bearing createSession first', async (t) => {
  const { app } = await build(t)
  const answers = [
    await app.inject({ method: 'POST', url: '/graphql', payload: { query: LOGIN } }),
    await app.inject({ method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${IMAP_TOKEN}` }, payload: { query: '{ account { id } }' } }),
    await app.inject({ method: 'GET', url: '/graphql', query: { query: '{ account { id } }' }, headers: { authorization: `Bearer ${IMAP_TOKEN}` } }),
    await app.inject({ method: 'POST', url: '/graphql', payload: { query: '{ account { id } }' } }),
    await app.inject({ method: 'POST', url: '/graphql', payload: { query: '{ nope' } }),
  ]
  assert.ok(answers[0]!.json().data.createSession.token)
  for (const res of answers) assert.equal(res.headers['cache-control'], 'no-store', res.body)
})

test('a 401 from /graphql carries WWW-Authenticate: Bearer; other answers do not', async (t) => {
  const { app } = await build(t)
  const denied = await app.inject({ method: 'POST', url: '/graphql', payload: { query: '{ account { id } }' } })
  assert.equal(denied.statusCode, 401)
  assert.match(String(denied.headers['www-authenticate']), /^Bearer realm="mail-gateway"$/)
  const ok = await app.inject({ method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${IMAP_TOKEN}` }, payload: { query: '{ account { id } }' } })
  assert.equal(ok.statusCode, 200)
  assert.equal(ok.headers['www-authenticate'], undefined)
})

test('REST: a rejected login (auth-failed, 401) names the scheme too', async (t) => {
  const { app } = await setup(t)
  const res = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { protocol: 'imap', host: 'mail.example.com', username: 'a', password: 'wrong' } })
  assert.equal(res.statusCode, 401)
  assert.equal(res.json().code, 'auth-failed')
  assert.match(String(res.headers['www-authenticate']), /^Bearer /)
})
