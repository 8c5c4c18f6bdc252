/**
 * The pool as the mail server sees it: 40 concurrent requests on one account
 * all succeed without the server ever seeing more than the per-account cap,
 * and 20 sequential requests cost at most one login.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { MessagePage } from '../../src/mail/types.ts'
import { recordSecret, startGateway, type Gateway } from './gateway.ts'

const mail = (n: number): Buffer => Buffer.from(`From: a${n}@example.com\r\nTo: b@example.com\r\nSubject: pool ${n}\r\nMessage-ID: <pool-${n}@example.com>\r\n\r\nbody ${n}\r\n`)

describe('IMAP connection pool, seen from Dovecot', { timeout: 120_000 }, () => {
  let gw: Gateway
  before(async () => { gw = await startGateway({ env: { IMAP_MAX_CONNECTIONS_PER_ACCOUNT: '3', CACHE_MAX_STALENESS_MS: '0' } }) })
  after(async () => { await gw?.close() })

  it('40 concurrent requests succeed with at most 3 server connections', async () => {
    const user = await gw.env.dovecot.createUser('pool40')
    await gw.env.dovecot.deliverMany(user.username, Array.from({ length: 40 }, (_, i) => ({ raw: mail(i) })))
    const { token } = await gw.login(user, { security: 'none' })
    const inbox = ((await gw.get('/v1/mailboxes', token)).json() as { items: Array<{ id: string, path: string }> }).items.find(m => m.path === 'INBOX')!
    const page = (await gw.get(`/v1/mailboxes/${inbox.id}/messages?limit=40`, token)).json() as MessagePage
    assert.equal(page.items.length, 40)

    let peak = 0
    const state = { sampling: true }
    const sampler = (async () => {
      while (state.sampling) {
        peak = Math.max(peak, await gw.env.dovecot.connectionCount(user.username, 'imap'))
        await new Promise(resolve => setTimeout(resolve, 5))
      }
    })()
    const results = await Promise.all(page.items.map(item => gw.get(`/v1/messages/${item.id}`, token)))
    state.sampling = false
    await sampler
    peak = Math.max(peak, await gw.env.dovecot.connectionCount(user.username, 'imap'))
    assert.deepEqual(results.map(r => r.statusCode), new Array(40).fill(200))
    assert.ok(peak >= 1, 'the sampler saw the pooled connections')
    assert.ok(peak <= 3, `server saw ${peak} connections`)
  })

  it('20 sequential requests cost at most one login', async () => {
    const user = await gw.env.dovecot.createUser('pool20')
    await gw.env.dovecot.deliver(user.username, mail(1))
    const { token } = await gw.login(user, { security: 'none' })
    const before = await gw.env.dovecot.loginCount(user.username, 'imap')
    for (let i = 0; i < 20; i++) {
      const res = await gw.get('/v1/mailboxes', token)
      assert.equal(res.statusCode, 200)
    }
    const logins = (await gw.env.dovecot.loginCount(user.username, 'imap')) - before
    assert.ok(logins <= 1, `${logins} logins for 20 requests`)
  })

  it('a wrong password is refused with auth-failed, never echoed', async () => {
    const user = await gw.env.dovecot.createUser('poolbad')
    recordSecret('wrong-password-123')
    const res = await gw.app.inject({
      method: 'POST',
      url: '/v1/sessions',
      payload: { protocol: 'imap', host: '127.0.0.1', port: gw.env.dovecot.ports.imap, security: 'none', username: user.username, password: 'wrong-password-123' },
    })
    assert.equal(res.statusCode, 401)
    assert.equal(res.json().code, 'auth-failed')
    assert.ok(!res.body.includes('wrong-password-123'))
  })
})
