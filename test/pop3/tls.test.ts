/**
 * POP3 verifies the server's certificate, over implicit TLS and STLS alike,
 * against the harness Dovecot (whose certificate a private CA signed).
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createPop3Backend } from '../../src/backends/pop3/index.ts'
import type { ConnectionSettings, Security } from '../../src/mail/types.ts'
import { testEnv } from '../env/shared.ts'
import { loopbackGuard } from './helpers.ts'

const env = await testEnv()
const withCa = createPop3Backend({ guard: loopbackGuard(), tlsCa: readFileSync(env.dovecot.caFile), timeoutMs: 5000, idleQuitMs: 50 })
const withoutCa = createPop3Backend({ guard: loopbackGuard(), tlsCa: null, timeoutMs: 5000, idleQuitMs: 50 })
after(async () => { await Promise.all([withCa.close(), withoutCa.close()]) })

const settings = (user: { username: string, password: string }, security: Security, host = '127.0.0.1'): ConnectionSettings => ({
  protocol: 'pop3',
  host,
  port: security === 'tls' ? env.dovecot.ports.pop3s : env.dovecot.ports.pop3,
  security,
  username: user.username,
  password: user.password,
})

for (const security of ['tls', 'starttls'] as const) {
  test(`POP3 over ${security}: a CA the gateway does not trust → upstream-unavailable, no login`, async () => {
    const user = await env.dovecot.createUser(`pop3-${security}-ca`)
    await assert.rejects(withoutCa.login(settings(user, security)), { code: 'upstream-unavailable' })
    assert.equal(await env.dovecot.loginCount(user.username), 0, 'the credentials never crossed the unverified connection')
    // the trusted CA logs in over the same path, so the refusal was the certificate's
    assert.equal((await withCa.login(settings(user, security))).uidl, true)
  })

  test(`POP3 over ${security}: a certificate for another name → upstream-unavailable, no login`, async () => {
    const user = await env.dovecot.createUser(`pop3-${security}-name`)
    // the guard maps any name to 127.0.0.1; the certificate is for localhost and 127.0.0.1 only
    await assert.rejects(withCa.login(settings(user, security, 'mail.example.com')), { code: 'upstream-unavailable' })
    assert.equal(await env.dovecot.loginCount(user.username), 0)
  })
}
