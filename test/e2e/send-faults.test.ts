/**
 * Sending failures: a refused SMTP login (Postfix), a private SMTP host under
 * the default allow-list, and a connection cut mid-DATA (a scripted server,
 * Postfix will not do that on demand) retried with the same Idempotency-Key.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import pino from 'pino'
import { createSmtpSender } from '../../src/backends/smtp/index.ts'
import { GatewayError } from '../../src/mail/errors.ts'
import { createHostGuard } from '../../src/net/host-guard.ts'
import { startFakeSmtp, type FakeSmtp } from './fake-smtp.ts'
import { startGateway, type Gateway } from './gateway.ts'

describe('sending failures', { timeout: 180_000 }, () => {
  let gw: Gateway
  let fake: FakeSmtp

  before(async () => {
    gw = await startGateway()
    fake = await startFakeSmtp({ cutAfter: 200 })
  })
  after(async () => { await gw?.close(); await fake?.close() })

  it('a refused SMTP login is 401 auth-failed at session creation, tried once', async () => {
    const user = await gw.env.dovecot.createUser('smtpauth')
    const before = await gw.env.dovecot.passwordMismatchCount(user.username)
    const res = await gw.app.inject({
      method: 'POST',
      url: '/v1/sessions',
      payload: { protocol: 'imap', host: '127.0.0.1', port: gw.env.dovecot.ports.imaps, username: user.username, password: user.password, smtp: { ...gw.smtp(), password: 'wrong-password-1' } },
    })
    assert.equal(res.statusCode, 401, res.body)
    assert.equal(res.json().code, 'auth-failed')
    assert.doesNotMatch(res.body, /wrong-password-1/)
    // Dovecot (Postfix's SASL) logged exactly one refusal: the gateway did not retry
    const deadline = Date.now() + 10_000
    let after = before
    while (after === before && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 100))
      after = await gw.env.dovecot.passwordMismatchCount(user.username)
    }
    await new Promise(resolve => setTimeout(resolve, 500))
    assert.equal(await gw.env.dovecot.passwordMismatchCount(user.username), before + 1)
  })

  it('an SMTP host on a private address is refused under the default allow-list', async () => {
    const sender = createSmtpSender({ guard: createHostGuard(null), tlsCa: null, timeoutMs: 2000, logger: pino({ level: 'silent' }) })
    for (const host of ['127.0.0.1', '10.1.2.3', '192.168.0.1', '169.254.169.254', 'localhost']) {
      await assert.rejects(sender.verify({ host, port: 587, security: 'starttls', username: 'u', password: 'p' }, { client: '' }),
        (err: unknown) => err instanceof GatewayError && err.code === 'host-not-allowed', host)
    }
    await sender.close()
  })

  it('a connection cut mid-DATA is a 502 whose outcome is unknown; the same Idempotency-Key never sends again', async () => {
    const user = await gw.env.dovecot.createUser('smtpcut')
    const { token } = await gw.login(user, { smtp: { host: '127.0.0.1', port: fake.port, security: 'none' } })
    const key = { 'idempotency-key': `cut-${randomBytes(6).toString('hex')}` }
    const body = { from: { email: 'a@example.test' }, to: [{ email: 'b@example.test' }], text: 'x'.repeat(5000), saveToSent: false }
    const send = () => gw.app.inject({ method: 'POST', url: '/v1/messages/send', headers: { authorization: `Bearer ${token}`, ...key }, payload: body })
    const first = await send()
    assert.equal(first.statusCode, 502, first.body)
    assert.equal(first.json().delivery, 'unknown')
    assert.equal(fake.dataCount(), 1)
    const retry = await send()
    assert.equal(retry.statusCode, 502)
    assert.equal(retry.headers['idempotent-replayed'], 'true')
    assert.equal(fake.dataCount(), 1, 'not sent again')
    // without the key a retry is the caller's choice, and it does send
    const unkeyed = await gw.app.inject({ method: 'POST', url: '/v1/messages/send', headers: { authorization: `Bearer ${token}` }, payload: body })
    assert.equal(unkeyed.statusCode, 502)
    assert.equal(fake.dataCount(), 2)
  })
})
