/**
 * GET /metrics (contract §11), read with an independent, strict parser of the
 * Prometheus text format (prom-text.ts): every name carries the
 * mailgw_ prefix, values move after real requests against Dovecot (requests by
 * route and status, latency, logins by protocol and outcome, open connections,
 * cache hits and misses, the parse budget), and no label holds a URL, an id, a
 * user name or a token. Off by default; with METRICS_TOKEN behind a bearer
 * token; METRICS_PORT's listener serves /metrics and nothing else.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startMetricsListener } from '../../src/metrics/http.ts'
import type { MessagePage } from '../../src/mail/types.ts'
import { startGateway, type Gateway } from './gateway.ts'
import { parsePromText, type PromFamily } from './prom-text.ts'

const TOKEN = 'metrics-token-0123456789'

type Families = Map<string, PromFamily>

async function scrape (gw: Gateway): Promise<{ families: Families, text: string }> {
  const res = await gw.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
  assert.equal(res.statusCode, 200, res.body)
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/)
  return { families: parsePromText(res.body), text: res.body }
}

/** The value of one sample (0 when absent); for a histogram, its count. */
function value (families: Families, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name)
  const sampleName = family?.type === 'histogram' ? `${name}_count` : name
  const sample = family?.samples.find(m => m.name === sampleName && Object.entries(labels).every(([k, v]) => m.labels[k] === v))
  return sample?.value ?? 0
}

describe('metrics', { timeout: 60_000 }, () => {
  let gw: Gateway
  let user: { username: string, password: string }

  before(async () => {
    gw = await startGateway({ metrics: true, env: { METRICS_TOKEN: TOKEN } })
    user = await gw.env.dovecot.createUser('metrics')
    await gw.env.dovecot.deliver(user.username, Buffer.from('From: a@example.org\r\nSubject: counted\r\n\r\nbody\r\n'))
  })
  after(async () => { await gw?.close() })

  it('values move after requests, and labels stay bounded', async () => {
    const before = (await scrape(gw)).families
    const { token } = await gw.login(user)
    await assert.rejects(gw.login(user, { password: 'wrong-password' }))
    await gw.login(user, { protocol: 'pop3' })
    const mailboxes = (await gw.get('/v1/mailboxes', token)).json() as { items: Array<{ id: string, path: string }> }
    const inbox = mailboxes.items.find(m => m.path === 'INBOX')
    assert.ok(inbox)
    const page = (await gw.get(`/v1/mailboxes/${inbox.id}/messages`, token)).json() as MessagePage
    const id = page.items[0]?.id
    assert.ok(id)
    for (let i = 0; i < 2; i++) assert.equal((await gw.get(`/v1/messages/${id}`, token)).statusCode, 200)
    assert.equal((await gw.get('/v1/no/such/route', token)).statusCode, 404)

    const { families, text } = await scrape(gw)
    const moved = (name: string, labels: Record<string, string>): number => value(families, name, labels) - value(before, name, labels)

    assert.deepEqual([...families.keys()].filter(name => !name.startsWith('mailgw_')), [])
    assert.equal(moved('mailgw_http_requests_total', { method: 'POST', route: '/v1/sessions', status: '201' }), 2)
    assert.equal(moved('mailgw_http_requests_total', { method: 'POST', route: '/v1/sessions', status: '401' }), 1)
    assert.equal(moved('mailgw_http_requests_total', { method: 'GET', route: '/v1/messages/:messageId', status: '200' }), 2)
    assert.equal(moved('mailgw_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' }), 1)
    assert.equal(moved('mailgw_http_request_duration_seconds', { method: 'GET', route: '/v1/messages/:messageId' }), 2)
    assert.equal(moved('mailgw_upstream_logins_total', { protocol: 'imap', outcome: 'ok' }) >= 1, true)
    assert.equal(moved('mailgw_upstream_logins_total', { protocol: 'imap', outcome: 'auth-failed' }), 1)
    assert.equal(moved('mailgw_upstream_logins_total', { protocol: 'pop3', outcome: 'ok' }), 1)
    assert.ok(value(families, 'mailgw_upstream_connections', { protocol: 'imap' }) >= 1, 'the pooled IMAP connection is counted')
    assert.equal(moved('mailgw_message_cache_reads_total', { outcome: 'miss' }), 1)
    assert.equal(moved('mailgw_message_cache_reads_total', { outcome: 'hit' }), 1)
    assert.equal(value(families, 'mailgw_parse_budget_bytes', { state: 'capacity' }), gw.config.parseBudgetBytes)
    assert.equal(value(families, 'mailgw_parse_budget_bytes', { state: 'in_use' }), 0, 'every read gave its bytes back')
    assert.ok(value(families, 'mailgw_process_resident_memory_bytes') > 0, 'process metrics, prefixed')

    const buckets = families.get('mailgw_http_request_duration_seconds')?.samples
      .filter(m => m.name.endsWith('_bucket') && m.labels.route === '/v1/messages/:messageId')
      .sort((a, b) => Number(a.labels.le) - Number(b.labels.le)) ?? []
    assert.ok(buckets.length > 5 && buckets.at(-1)?.labels.le === '+Inf', 'buckets up to +Inf')
    assert.ok(buckets.every((b, i) => i === 0 || b.value >= (buckets[i - 1]?.value ?? 0)), 'cumulative buckets')
    assert.equal(buckets.at(-1)?.value, value(families, 'mailgw_http_request_duration_seconds', { route: '/v1/messages/:messageId' }))

    // bounded labels: route patterns only; no id, URL, user or token anywhere
    const patterns = new Set([...gw.app.registeredRoutes().map(r => r.url), 'unmatched'])
    const routes = [...families.values()].flatMap(f => f.samples.map(m => m.labels.route)).filter(r => r !== undefined)
    assert.deepEqual(routes.filter(r => !patterns.has(r)), [])
    for (const secret of [id, inbox.id, user.username, token, user.password, '/v1/no/such/route']) {
      assert.equal(text.includes(secret), false, `the exposition holds ${secret.slice(0, 12)}…`)
    }
  })

  it('refuses a missing or wrong token with problem+json', async () => {
    for (const headers of [{}, { authorization: 'Bearer not-the-metrics-token' }, { authorization: `Bearer ${TOKEN}x` }]) {
      const res = await gw.app.inject({ method: 'GET', url: '/metrics', headers })
      assert.equal(res.statusCode, 401)
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/)
      assert.match(String(res.headers['www-authenticate']), /^Bearer/)
    }
  })

  it('METRICS_PORT: a listener serving only /metrics, without a token', async () => {
    assert.ok(gw.metrics)
    const listener = await startMetricsListener(gw.metrics, '127.0.0.1', 0)
    try {
      const res = await fetch(`http://127.0.0.1:${listener.port}/metrics`)
      assert.equal(res.status, 200)
      assert.ok(parsePromText(await res.text()).has('mailgw_http_requests_total'))
      assert.equal((await fetch(`http://127.0.0.1:${listener.port}/v1/mailboxes`)).status, 404)
      assert.equal((await fetch(`http://127.0.0.1:${listener.port}/healthz`)).status, 404)
    } finally {
      await listener.close()
    }
  })

  it('is off by default: no /metrics route', async () => {
    const plain = await startGateway()
    try {
      assert.equal(plain.metrics, null)
      assert.equal((await plain.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404)
    } finally {
      await plain.close()
    }
  })
})
