// Login over every security mode against the harness Dovecot, with and without its CA.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { GatewayError } from '../../src/mail/errors.ts'
import { env, makeBackend, newAccount, settingsFor } from './helpers.ts'

const { backend, attempts } = makeBackend()
const noCa = makeBackend({ tlsCa: null })
after(async () => { await Promise.all([backend.close(), noCa.backend.close()]) })

const isCode = (code: string) => (err: unknown) => err instanceof GatewayError && err.code === code

for (const security of ['none', 'starttls', 'tls'] as const) {
  test(`login over ${security} reports the server's capabilities`, async () => {
    const { settings } = await newAccount(`login-${security}`, security)
    const caps = await backend.login(settings)
    assert.equal(caps.mailboxes, true)
    assert.equal(caps.keywords, true)
    assert.equal(caps.search, true)
    // Dovecot 2.3 advertises all of these after login
    assert.equal(caps.move, true)
    assert.equal(caps.idle, true)
    assert.equal(caps.condstore, true)
    assert.equal(caps.qresync, true)
    assert.equal(caps.specialUse, true)
  })
}

test('a CA the gateway does not trust fails TLS and STARTTLS with upstream-unavailable', async () => {
  const { settings } = await newAccount('login-noca', 'tls')
  await assert.rejects(noCa.backend.login(settings), isCode('upstream-unavailable'))
  await assert.rejects(noCa.backend.login({ ...settings, security: 'starttls', port: env.dovecot.ports.imap }), isCode('upstream-unavailable'))
  // cleartext does not verify anything, so the same backend can log in there
  const caps = await noCa.backend.login({ ...settings, security: 'none', port: env.dovecot.ports.imap })
  assert.equal(caps.mailboxes, true)
})

test('TLS to the wrong port (cleartext listener) fails cleanly', async () => {
  const { settings } = await newAccount('login-wrongport', 'tls')
  await assert.rejects(backend.login({ ...settings, port: env.dovecot.ports.imap }),
    (e: unknown) => e instanceof GatewayError && ['upstream-unavailable', 'upstream-timeout'].includes(e.code))
})

test('nothing listening → upstream-unavailable', async () => {
  const { settings } = await newAccount('login-closed', 'none')
  await assert.rejects(backend.login({ ...settings, port: 1 }), isCode('upstream-unavailable'))
})

test('the host guard runs before connecting and its refusal stands', async () => {
  const guarded = makeBackend({ guard: async () => { throw new GatewayError('host-not-allowed') } })
  const { settings } = await newAccount('login-guard', 'none')
  await assert.rejects(guarded.backend.login(settings), isCode('host-not-allowed'))
  assert.equal(guarded.attempts(), 1, 'the factory was asked, but the guard stopped it')
  await guarded.backend.close()
})

test('a wrong password is auth-failed, and a burst of 10 costs one login attempt', async () => {
  const { settings } = await newAccount('login-wrong', 'none')
  const bad = { ...settings, password: 'not-the-password' }
  const before = attempts()
  const ctx = { accountId: 'acct-wrong', settings: bad }
  const results = await Promise.allSettled(Array.from({ length: 10 }, () => backend.listMailboxes(ctx)))
  for (const r of results) {
    assert.equal(r.status, 'rejected')
    assert.ok(isCode('auth-failed')((r as PromiseRejectedResult).reason))
  }
  assert.equal(attempts() - before, 1)
  // the error never carries the password
  assert.doesNotMatch(String((results[0] as PromiseRejectedResult).reason.message), /not-the-password/)
  // the right password is a different key: it is not blocked by the failure
  const caps = await backend.login(settingsFor(await env.dovecot.createUser('login-right'), 'none'))
  assert.equal(caps.mailboxes, true)
})
