/**
 * Login attempts for new sessions against a maildrop someone is using: they
 * never queue in front of the sessions of tokens already issued, never end
 * them, and every wait for a maildrop is bounded. A silent port and a stalled
 * login come from the scripted fake server; wrong passwords from the real Dovecot.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createPop3Backend } from '../../src/backends/pop3/index.ts'
import { MaildropSessions } from '../../src/backends/pop3/sessions.ts'
import type { AccountContext } from '../../src/mail/backend.ts'
import type { ConnectionSettings } from '../../src/mail/types.ts'
import { testEnv } from '../env/shared.ts'
import { waitFor } from '../env/wait.ts'
import { startFakeServer, type FakeMessage } from './fake-server.ts'
import { loopbackGuard, rejectsWith } from './helpers.ts'

const mail = (i: number): FakeMessage => ({ uid: `uid-${i}`, raw: Buffer.from(`Subject: m${i}\r\nFrom: a@example.com\r\n\r\nbody ${i}\r\n`) })

/** Tracks whether each promise has settled yet. */
function tracked<T> (promises: Array<Promise<T>>): { settled: () => number, all: Promise<unknown> } {
  let settled = 0
  const all = Promise.allSettled(promises.map(p => p.finally(() => { settled++ })))
  return { settled: () => settled, all }
}

test('logins naming a user on a port that never greets do not hold up that user\'s session', async (t) => {
  const server = await startFakeServer({ lock: true, messages: [mail(1), mail(2)] })
  const silent = await startFakeServer({ silent: true })
  const backend = createPop3Backend({ guard: loopbackGuard(), timeoutMs: 1500, idleQuitMs: 5000 })
  t.after(async () => { await backend.close(); await server.close(); await silent.close() })
  const settings: ConnectionSettings = { protocol: 'pop3', host: '127.0.0.1', port: server.port, security: 'none', username: 'alice', password: 'secret' }
  const ctx: AccountContext = { accountId: 'acc', settings }
  await backend.login(settings)
  // five new-session logins with the victim's user name, at the same host, on the silent port
  const attempts = tracked(Array.from({ length: 5 }, (_, i) => backend.login({ ...settings, port: silent.port, password: `guess-${i}` })))
  await new Promise(resolve => setTimeout(resolve, 50))
  const page = await backend.listMessages(ctx, 'INBOX', { limit: 10, filter: {} })
  const [m1] = await backend.getMessages(ctx, [{ mailbox: 'INBOX', validity: null, key: 'uid-1' }])
  assert.equal(page.total, 2)
  assert.equal(m1?.subject, 'm1')
  assert.equal(attempts.settled(), 0, 'the victim was served while every attempt was still waiting for a greeting')
  await attempts.all
})

test('requests queued behind a login that failed get its error instead of each logging in again', async (t) => {
  let passes = 0
  const server = await startFakeServer({ onCommand: (cmd) => { const login = cmd === 'PASS' || cmd === 'AUTH'; if (login) passes++; return login } })
  const backend = createPop3Backend({ guard: loopbackGuard(), timeoutMs: 300 })
  t.after(async () => { await backend.close(); await server.close() })
  const ctx: AccountContext = { accountId: 'acc', settings: { protocol: 'pop3', host: '127.0.0.1', port: server.port, security: 'none', username: 'alice', password: 'secret' } }
  const results = await Promise.allSettled(Array.from({ length: 4 }, () => backend.listMailboxes(ctx)))
  assert.ok(results.every(r => r.status === 'rejected'))
  assert.equal(passes, 1, 'one login for the four queued requests')
})

test('a wait for a maildrop whose login never ends is bounded', async (t) => {
  const never = new Promise<never>(() => {})
  const sessions = new MaildropSessions({ connect: () => never, idleQuitMs: 100, maxAgeMs: 1000, waitMs: 100, acquireTimeoutMs: 200 })
  t.after(() => sessions.close())
  const a: ConnectionSettings = { protocol: 'pop3', host: 'mail.example', port: 110, security: 'none', username: 'u', password: 'a' }
  const first = sessions.acquire(a, false)
  first.catch(() => {})
  // another port of the same maildrop queues behind it; it gives up rather than waiting for good
  await rejectsWith(sessions.acquire({ ...a, port: 995, security: 'tls' }, false), 'upstream-timeout')
  await rejectsWith(first, 'upstream-timeout')
})

test('Dovecot: wrong passwords for a user never log out or hold up that user\'s session', async (t) => {
  const env = await testEnv()
  const user = await env.dovecot.createUser('pop3-guess')
  await env.dovecot.deliver(user.username, Buffer.from('Subject: hello\r\nFrom: a@example.com\r\n\r\nhi\r\n'))
  const backend = createPop3Backend({ guard: loopbackGuard(), tlsCa: readFileSync(env.dovecot.caFile), timeoutMs: 5000, idleQuitMs: 5000 })
  t.after(() => backend.close())
  const settings: ConnectionSettings = { protocol: 'pop3', host: '127.0.0.1', port: env.dovecot.ports.pop3, security: 'none', username: user.username, password: user.password }
  const ctx: AccountContext = { accountId: 'acc', settings }
  const page = await backend.listMessages(ctx, 'INBOX', { limit: 5, filter: {} })
  const key = page.items[0]?.key
  assert.ok(key !== undefined)
  const logins = await env.dovecot.loginCount(user.username, 'pop3')
  const guesses = Array.from({ length: 8 }, (_, i) => rejectsWith(backend.login({ ...settings, password: `wrong-${i}` }), 'auth-failed'))
  for (let i = 0; i < 3; i++) assert.equal((await backend.getMessages(ctx, [key]))[0]?.subject, 'hello')
  await Promise.all(guesses)
  assert.equal((await backend.getMessages(ctx, [key]))[0]?.subject, 'hello')
  assert.equal(await env.dovecot.loginCount(user.username, 'pop3'), logins, 'the user\'s session was never ended by a guess')
})

test('a login for a new session that ends after close() QUITs rather than staying open', async (t) => {
  const server = await startFakeServer({
    onCommand: (cmd, args, s) => {
      if (cmd !== 'PASS' && cmd !== 'AUTH') return false
      // answer the login late, once the backend is closing
      setTimeout(() => { s.user = 'alice'; s.write('+OK Logged in.\r\n') }, 150)
      return true
    },
  })
  const backend = createPop3Backend({ guard: loopbackGuard(), timeoutMs: 2000, idleQuitMs: 10_000 })
  t.after(() => server.close())
  const login = backend.login({ protocol: 'pop3', host: '127.0.0.1', port: server.port, security: 'none', username: 'alice', password: 'secret' })
  await new Promise(resolve => setTimeout(resolve, 50))
  await backend.close()
  assert.equal((await login).uidl, true)
  await waitFor(() => server.commands.includes('QUIT'), 2000, 'the late login QUITs')
})
