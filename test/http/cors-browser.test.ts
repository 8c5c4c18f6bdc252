/**
 * CORS from a real browser page on another origin (two loopback origins: the
 * page's server and the gateway listen on different ports): with the page's
 * origin in CORS_ORIGINS, a REST call with a bearer token and a GraphQL POST
 * (both preflighted) succeed and expose what clients read; with CORS off, or
 * another origin listed, the browser refuses the same calls.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, test, type TestContext } from 'node:test'
import type { Browser } from 'playwright-core'
import { parseCorsOrigins } from '../../src/http/cors.ts'
import { chromiumMissing, launchChromium } from '../env/browser.ts'
import { GOOD_TOKEN } from './fake-service.ts'
import { setup } from './helpers.ts'

const missing = chromiumMissing()
/** One browser for the file (a fresh page, so a fresh origin state, per call). */
let browser: Promise<Browser> | undefined
after(async () => { await (await browser)?.close() })

/** A page server on its own port: another origin than the gateway's. */
async function pageOrigin (t: TestContext): Promise<string> {
  const server = http.createServer((_req, res) => { res.setHeader('content-type', 'text/html'); res.end('<!doctype html><title>app</title>') })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise(resolve => server.close(resolve)))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function gateway (t: TestContext, env: Record<string, string>): Promise<string> {
  const { app } = await setup(t, env)
  await app.listen({ host: '127.0.0.1', port: 0 })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

interface Outcome { rest: string, graphql: string }

/** What a page at `origin` gets from the gateway: status and what it could read, or the browser's refusal. */
async function callFromPage (t: TestContext, origin: string, api: string): Promise<Outcome> {
  browser ??= launchChromium()
  const context = await (await browser).newContext()
  t.after(() => context.close())
  const page = await context.newPage()
  await page.goto(origin)
  // plain JavaScript text: the test's own code is transpiled with helpers the page does not have
  return await page.evaluate(`(async (api, token) => {
    const attempt = async (f) => { try { return await f() } catch (err) { return 'refused: ' + err.name } }
    const rest = await attempt(async () => {
      const res = await fetch(api + '/v1/account', { headers: { authorization: 'Bearer ' + token } })
      return res.status + ' ' + (await res.json()).username + ' id=' + (res.headers.get('x-request-id') !== null)
    })
    const graphql = await attempt(async () => {
      const res = await fetch(api + '/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token }, body: JSON.stringify({ query: '{ account { username } }' }) })
      return res.status + ' ' + (await res.json()).data.account.username
    })
    return { rest, graphql }
  })(${JSON.stringify(api)}, ${JSON.stringify(GOOD_TOKEN)})`)
}

test('a page on an allowed origin calls REST and /graphql; preflights pass', { skip: missing ?? false, timeout: 120_000 }, async (t) => {
  const origin = await pageOrigin(t)
  const api = await gateway(t, { CORS_ORIGINS: `https://other.example, ${origin}` })
  assert.deepEqual(await callFromPage(t, origin, api), { rest: '200 alice id=true', graphql: '200 alice' })
})

test('CORS_ORIGINS=* lets any page call, never with credentials', { skip: missing ?? false, timeout: 120_000 }, async (t) => {
  const origin = await pageOrigin(t)
  const api = await gateway(t, { CORS_ORIGINS: '*' })
  assert.deepEqual(await callFromPage(t, origin, api), { rest: '200 alice id=true', graphql: '200 alice' })
  const preflight = await fetch(`${api}/graphql`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } })
  assert.equal(preflight.status, 204)
  assert.equal(preflight.headers.get('access-control-allow-origin'), '*')
  assert.equal(preflight.headers.get('access-control-allow-credentials'), null)
})

test('CORS off (the default), or another origin listed: the browser refuses', { skip: missing ?? false, timeout: 120_000 }, async (t) => {
  const origin = await pageOrigin(t)
  const refused = { rest: 'refused: TypeError', graphql: 'refused: TypeError' }
  assert.deepEqual(await callFromPage(t, origin, await gateway(t, {})), refused)
  assert.deepEqual(await callFromPage(t, origin, await gateway(t, { CORS_ORIGINS: 'http://127.0.0.1:1' })), refused)
})

test('CORS_ORIGINS takes origins or *, nothing else', () => {
  assert.equal(parseCorsOrigins(undefined), null)
  assert.equal(parseCorsOrigins(' '), null)
  assert.equal(parseCorsOrigins('*'), '*')
  assert.deepEqual(parseCorsOrigins('https://App.example.com, http://127.0.0.1:8080'), ['https://app.example.com', 'http://127.0.0.1:8080'])
  for (const bad of ['*,https://a.example', 'app.example.com', 'https://a.example/path', 'ftp://a.example', 'https://a.example?x']) {
    assert.throws(() => parseCorsOrigins(bad), /CORS_ORIGINS/, bad)
  }
})

test('with CORS on, a wrong method is still 405 and an unknown path 404', async (t) => {
  const { app } = await setup(t, { CORS_ORIGINS: '*' })
  const wrong = await app.inject({ method: 'PUT', url: '/v1/account' })
  assert.equal(wrong.statusCode, 405)
  assert.equal(wrong.headers.allow, 'GET, HEAD')
  assert.equal((await app.inject({ url: '/v1/nothing-here' })).statusCode, 404)
})
