import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import { registerGraphql } from '../../src/graphql/index.ts'
import { build } from './helpers.ts'
import { FakeMailService } from './fake-service.ts'

test('GraphiQL at /graphiql when enabled, its assets served by the gateway, with a CSP relaxed only there', async (t) => {
  const { app } = await build(t, { graphiql: true })
  const page = await app.inject('/graphiql')
  assert.equal(page.statusCode, 200)
  assert.match(String(page.headers['content-type']), /text\/html/)
  assert.match(String(page.headers['content-security-policy']), /script-src 'self'(;|$)/)
  for (const url of ['/graphiql/main.js', '/graphiql/sw.js']) {
    const script = await app.inject(url)
    assert.equal(script.statusCode, 200)
    assert.match(String(script.headers['content-type']), /javascript/)
    assert.doesNotMatch(script.body, /unpkg\.com|https?:\/\//, `${url} loads nothing from elsewhere`)
    assert.match(script.body, /\/graphiql\/vendor\/graphiql\.js/)
  }
  for (const [name, type] of [['react.js', /javascript/], ['react-dom.js', /javascript/], ['graphiql.js', /javascript/], ['graphiql.css', /text\/css/]] as const) {
    const asset = await app.inject(`/graphiql/vendor/${name}`)
    assert.equal(asset.statusCode, 200, name)
    assert.match(String(asset.headers['content-type']), type)
    assert.ok(asset.rawPayload.length > 1000, name)
  }
  assert.equal((await app.inject('/graphiql/vendor/other.js')).statusCode, 404)
  const api = await app.inject({ method: 'POST', url: '/graphql', payload: { query: '{ __typename }' } })
  assert.equal(api.headers['content-security-policy'], undefined)
})

test('no GraphiQL when disabled (production default)', async (t) => {
  const { app } = await build(t, { graphiql: false })
  assert.equal((await app.inject('/graphiql')).statusCode, 404)
})

test('registering GraphQL leaves the app\'s own error handler and routes alone', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  app.setErrorHandler((_err, _req, reply) => { reply.code(418).send({ code: 'rest-handler' }) })
  app.get('/v1/boom', async () => { throw new Error('boom') })
  await registerGraphql(app, { service: new FakeMailService(), config: { graphiql: false, sessionTtlMax: 60 } })
  const res = await app.inject('/v1/boom')
  assert.equal(res.statusCode, 418)
  assert.deepEqual(res.json(), { code: 'rest-handler' })
  const gql = await app.inject({ method: 'POST', url: '/graphql', payload: { query: '{ account { id } }' } })
  assert.equal(gql.json().errors[0].extensions.code, 'unauthorized')
})
