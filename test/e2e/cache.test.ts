/**
 * Caching as callers see it, on both cache backends (in-process and Redis):
 * never another account's mail, mutable state within the staleness bound,
 * new mail in the next list, Redis outages survived, nothing in clear in
 * Redis, and revocations honoured by every instance.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { ImapFlow } from 'imapflow'
import type { Message, MessagePage } from '../../src/mail/types.ts'
import { scanRedis } from '../cache/scan.ts'
import { startRedis, type RedisEnv } from '../env/redis.ts'
import { recordSecret, startGateway, type Gateway } from './gateway.ts'

const BOUND_MS = 400
const text = (subject: string, body: string): Buffer =>
  Buffer.from(`From: Ann <ann@example.com>\r\nTo: bob@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.com>\r\n\r\n${body}\r\n`)

async function inboxPage (gw: Gateway, token: string): Promise<MessagePage> {
  const inbox = ((await gw.get('/v1/mailboxes', token)).json() as { items: Array<{ id: string, path: string }> }).items.find(m => m.path === 'INBOX')!
  const res = await gw.get(`/v1/mailboxes/${inbox.id}/messages`, token)
  assert.equal(res.statusCode, 200, res.body)
  return res.json() as MessagePage
}

for (const backend of ['memory', 'redis'] as const) {
  describe(`cache behaviour (${backend})`, { timeout: 120_000 }, () => {
    let gw: Gateway
    let redis: RedisEnv | undefined
    before(async () => {
      redis = backend === 'redis' ? await startRedis() : undefined
      gw = await startGateway({ env: { CACHE_MAX_STALENESS_MS: String(BOUND_MS), ...(redis ? { REDIS_URL: redis.url } : {}) } })
    })
    after(async () => {
      await gw?.close()
      await redis?.stop()
    })

    it('an id from one account never yields content to another (even the same mailbox over another port)', async () => {
      const alice = await gw.env.dovecot.createUser('alice')
      const bob = await gw.env.dovecot.createUser('bob')
      await gw.env.dovecot.deliver(alice.username, text('alice secret plans', 'only for alice'))
      await gw.env.dovecot.deliver(bob.username, text('bob mail', 'bob body'))
      const a = await gw.login(alice)
      const b = await gw.login(bob)
      const aliceId = (await inboxPage(gw, a.token)).items[0]!.id
      assert.equal((await gw.get(`/v1/messages/${aliceId}`, a.token)).statusCode, 200, 'cached for alice now')
      for (const url of [`/v1/messages/${aliceId}`, `/v1/messages/${aliceId}/raw`, `/v1/messages/${aliceId}/attachments/1`]) {
        const res = await gw.get(url, b.token)
        assert.equal(res.statusCode, 404, url)
        assert.ok(!res.body.includes('alice secret'), url)
      }
      const aliceOverStarttls = await gw.login(alice, { security: 'starttls' })
      assert.notEqual(aliceOverStarttls.account.id, a.account.id, 'port is part of the account identity')
      assert.equal((await gw.get(`/v1/messages/${aliceId}`, aliceOverStarttls.token)).statusCode, 404)
    })

    it('a flag set by another IMAP client shows within the staleness bound; new mail shows in the next list', async () => {
      const user = await gw.env.dovecot.createUser('flags')
      await gw.env.dovecot.deliver(user.username, text('flag me', 'x'))
      const { token } = await gw.login(user)
      const id = (await inboxPage(gw, token)).items[0]!.id
      const first = (await gw.get(`/v1/messages/${id}`, token)).json() as Message
      assert.deepEqual(first.keywords, [])

      const other = new ImapFlow({ host: '127.0.0.1', port: gw.env.dovecot.ports.imap, secure: false, doSTARTTLS: false, auth: { user: user.username, pass: user.password }, logger: false })
      other.on('error', () => {})
      await other.connect()
      const lock = await other.getMailboxLock('INBOX')
      try { await other.messageFlagsAdd('1:*', ['\\Flagged']) } finally { lock.release() }
      await other.logout()

      await sleep(BOUND_MS + 100)
      const later = (await gw.get(`/v1/messages/${id}`, token)).json() as Message
      assert.deepEqual(later.keywords, ['$flagged'])

      await gw.env.dovecot.deliver(user.username, text('arrived later', 'y'))
      const page = await inboxPage(gw, token)
      assert.equal(page.total, 2)
      assert.equal(page.items[0]!.subject, 'arrived later')
    })

    it('a cached raw source is not served once the message is gone', async () => {
      const user = await gw.env.dovecot.createUser('rawgone')
      await gw.env.dovecot.deliver(user.username, text('soon gone', 'bytes'))
      const { token } = await gw.login(user)
      const id = (await inboxPage(gw, token)).items[0]!.id
      assert.equal((await gw.get(`/v1/messages/${id}/raw`, token)).statusCode, 200)
      const other = new ImapFlow({ host: '127.0.0.1', port: gw.env.dovecot.ports.imap, secure: false, doSTARTTLS: false, auth: { user: user.username, pass: user.password }, logger: false })
      other.on('error', () => {})
      await other.connect()
      const lock = await other.getMailboxLock('INBOX')
      try { await other.messageDelete('1:*') } finally { lock.release() }
      await other.logout()
      await sleep(BOUND_MS + 100)
      assert.equal((await gw.get(`/v1/messages/${id}/raw`, token)).statusCode, 404)
      assert.equal((await gw.get(`/v1/messages/${id}`, token)).statusCode, 404)
    })

    if (backend === 'redis') {
      it('Redis killed mid-run: requests answer without hanging, /readyz says degraded, then the cache comes back', async () => {
        const user = await gw.env.dovecot.createUser('outage')
        await gw.env.dovecot.deliver(user.username, text('outage later', 'w'))
        await gw.env.dovecot.deliver(user.username, text('outage', 'z'))
        const { token } = await gw.login(user)
        const [first, second] = (await inboxPage(gw, token)).items
        const id = first!.id
        assert.equal((await gw.get(`/v1/messages/${id}`, token)).statusCode, 200)

        await redis!.kill()
        for (let i = 0; i < 5; i++) {
          const started = Date.now()
          const res = await gw.get(`/v1/messages/${id}`, token)
          // served, or (fail closed) refused once the token's revocation can no longer be checked
          assert.ok(res.statusCode === 200 || (res.statusCode === 503 && res.json().code === 'unavailable'), `${res.statusCode} ${res.body}`)
          assert.ok(Date.now() - started < 3000, 'no hang while Redis is down')
        }
        const degraded = (await gw.app.inject({ method: 'GET', url: '/readyz' })).json()
        assert.equal(degraded.cache.status, 'degraded')

        await redis!.restart()
        let status = ''
        for (let i = 0; i < 50 && status !== 'ok'; i++) {
          await sleep(200)
          await gw.get(`/v1/messages/${id}`, token)
          status = (await gw.app.inject({ method: 'GET', url: '/readyz' })).json().cache.status
        }
        assert.equal(status, 'ok')
        assert.equal((await gw.get(`/v1/messages/${second!.id}`, token)).statusCode, 200)
        const report = await scanRedis(redis!.url, [])
        assert.ok(report.keys.length > 0, 'the cache stores again')
      })

      it('Redis holds no key without TTL and nothing in clear', async () => {
        const user = await gw.env.dovecot.createUser('scan')
        recordSecret(user.password)
        const body = 'the-plain-message-text-canary'
        await gw.env.dovecot.deliver(user.username, text('scan', body), { mailbox: 'Canary Folder' })
        const { token } = await gw.login(user)
        const boxes = (await gw.get('/v1/mailboxes', token)).json() as { items: Array<{ id: string, path: string }> }
        const canary = boxes.items.find(m => m.path === 'Canary Folder')!
        const page = (await gw.get(`/v1/mailboxes/${canary.id}/messages`, token)).json() as MessagePage
        assert.equal((await gw.get(`/v1/messages/${page.items[0]!.id}`, token)).statusCode, 200)
        const report = await scanRedis(redis!.url, [user.password, user.username, 'Canary Folder', body, token])
        assert.ok(report.keys.length > 0)
        assert.deepEqual(report.problems, [])
      })

      it('a revocation on one instance is honoured by another sharing Redis', async () => {
        const second = await startGateway({ env: { REDIS_URL: redis!.url } })
        try {
          const user = await gw.env.dovecot.createUser('revoke')
          const { token } = await gw.login(user)
          assert.equal((await second.get('/v1/account', token)).statusCode, 200, 'any instance with the secret serves the token')
          const del = await gw.app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: { authorization: `Bearer ${token}` } })
          assert.equal(del.statusCode, 204)
          assert.equal((await second.get('/v1/account', token)).statusCode, 401)
        } finally { await second.close() }
      })

      it('a revocation while Redis is down is refused with 503 (never a 204 that other instances miss); repeated later it holds', async () => {
        const second = await startGateway({ env: { REDIS_URL: redis!.url } })
        try {
          const user = await gw.env.dovecot.createUser('revoke-down')
          const { token } = await gw.login(user)
          const revoke = async (): Promise<Awaited<ReturnType<typeof gw.app.inject>>> =>
            await gw.app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: { authorization: `Bearer ${token}` } })
          await redis!.kill()
          const refused = await revoke()
          assert.equal(refused.statusCode, 503, refused.body)
          // not revoked (200), or not checkable once the revocation copy is past its bound (503): never 401
          const during = await gw.get('/v1/account', token)
          assert.ok([200, 503].includes(during.statusCode), `refused, so not revoked: the client repeats it (${during.statusCode})`)
          assert.match(String(refused.headers['content-type']), /^application\/problem\+json/)
          assert.equal(refused.json().code, 'unavailable')
          assert.ok(Number(refused.headers['retry-after']) > 0)
          await redis!.restart()
          let res = await revoke()
          for (let i = 0; i < 50 && res.statusCode === 503; i++) {
            await sleep(200)
            res = await revoke()
          }
          assert.equal(res.statusCode, 204, res.body)
          // the second instance reads revocations from Redis: wait until its own connection is
          // back (its reconnect backs off on its own schedule) before asking it
          for (let i = 0; i < 50; i++) {
            const ready = await second.app.inject({ method: 'GET', url: '/readyz' })
            if (ready.json().cache.status === 'ok') break
            await sleep(200)
          }
          assert.equal((await second.get('/v1/account', token)).statusCode, 401)
        } finally { await second.close() }
      })
    }
  })
}

describe('mailbox lists within the staleness bound', { timeout: 60_000 }, () => {
  let gw: Gateway
  before(async () => { gw = await startGateway({ env: { CACHE_MAX_STALENESS_MS: '1000' } }) })
  after(async () => { await gw?.close() })

  it('repeated lists share one upstream LIST, and a new mailbox shows once the bound has passed', async () => {
    const user = await gw.env.dovecot.createUser('boxes')
    const { token } = await gw.login(user)
    const calls = gw.countCalls('imap', 'listMailboxes')
    const names = async (): Promise<string[]> => ((await gw.get('/v1/mailboxes', token)).json() as { items: Array<{ path: string }> }).items.map(m => m.path)
    for (let i = 0; i < 5; i++) assert.ok((await names()).includes('INBOX'))
    assert.equal(calls.length, 1)
    await gw.env.dovecot.deliver(user.username, text('filed', 'x'), { mailbox: 'Projects' })
    await sleep(1100)
    assert.ok((await names()).includes('Projects'))
    assert.equal(calls.length, 2)
  })
})
