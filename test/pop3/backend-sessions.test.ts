/**
 * The backend's session discipline against a scripted server that enforces
 * the maildrop lock: one session per maildrop, requests queued on it, QUIT
 * after a short idle, a dead session replaced, faults mapped to 502/504.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createPop3Backend } from '../../src/backends/pop3/index.ts'
import { connectPop3 } from '../../src/backends/pop3/client/index.ts'
import type { AccountContext } from '../../src/mail/backend.ts'
import type { ConnectionSettings } from '../../src/mail/types.ts'
import { ByteBudget } from '../../src/util/byte-budget.ts'
import { waitFor } from '../env/wait.ts'
import { delay, startFakeServer, type FakeMessage, type FakeServerOptions } from './fake-server.ts'
import { clientOptions, loopbackGuard, readAll, rejectsWith } from './helpers.ts'

const mail = (i: number): FakeMessage => ({
  uid: `uid-${i}`,
  raw: Buffer.from(`Received: from x by y; Tue, 1 Oct 2024 10:0${i}:00 +0000\r\nSubject: m${i}\r\nFrom: A <a@example.com>\r\n\r\nbody ${i}\r\n`),
})

async function setup (t: { after: (fn: () => Promise<void>) => void }, opts: FakeServerOptions = {}, idleQuitMs = 300, timeoutMs = 2000) {
  const server = await startFakeServer({ lock: true, messages: [1, 2, 3].map(mail), ...opts })
  const guard = loopbackGuard()
  const backend = createPop3Backend({ guard, timeoutMs, idleQuitMs })
  t.after(async () => { await backend.close(); await server.close() })
  const settings: ConnectionSettings = { protocol: 'pop3', host: '127.0.0.1', port: server.port, security: 'none', username: 'alice', password: 'secret' }
  const ctx: AccountContext = { accountId: 'acc', settings }
  return { server, backend, guard, settings, ctx }
}

const key = (uid: string) => ({ mailbox: 'INBOX', validity: null, key: uid })

test('concurrent requests share one login; QUIT follows shortly after the burst so a mail client can log in', async (t) => {
  const { server, backend, ctx } = await setup(t)
  const [page, msgs, mailboxes] = await Promise.all([
    backend.listMessages(ctx, 'INBOX', { limit: 2, filter: {} }),
    backend.getMessages(ctx, [key('uid-1'), key('uid-2')]),
    backend.listMailboxes(ctx),
  ])
  assert.equal(server.logins, 1)
  assert.deepEqual(page.items.map(i => i.key.key), ['uid-3', 'uid-2'])
  assert.equal(page.total, 3)
  assert.deepEqual(msgs.map(m => m?.subject), ['m1', 'm2'])
  assert.equal(mailboxes[0]?.totalEmails, 3)
  // Right now the gateway holds the lock…
  await rejectsWith(connectPop3(clientOptions(server.port)), 'mailbox-locked')
  // …and lets go once idle.
  await delay(600)
  assert.equal(server.openSessions, 0)
  const other = await connectPop3(clientOptions(server.port))
  await other.quit()
})

test('a message delivered while a session is open appears in the next list call', async (t) => {
  const { server, backend, ctx } = await setup(t, {}, 5000)
  const before = await backend.listMessages(ctx, 'INBOX', { limit: 10, filter: {} })
  assert.equal(before.total, 3)
  server.messages.push(mail(4))
  const after = await backend.listMessages(ctx, 'INBOX', { limit: 10, filter: {} })
  assert.equal(after.total, 4)
  assert.equal(after.items[0]?.key.key, 'uid-4')
  // And a message id from a newer list resolves even on an older session.
  server.messages.push(mail(5))
  const [m5] = await backend.getMessages(ctx, [key('uid-5')])
  assert.equal(m5?.subject, 'm5')
})

test('summaries come from TOP n 0 and LIST, never RETR; receivedAt from Received:, keywords null', async (t) => {
  const { server, backend, ctx } = await setup(t)
  const page = await backend.listMessages(ctx, 'INBOX', { limit: 3, filter: {} })
  assert.ok(!server.commands.some(c => c.startsWith('RETR')), server.commands.join(','))
  assert.ok(server.commands.includes('TOP 3 0'))
  const first = page.items[0]
  assert.equal(first?.receivedAt, '2024-10-01T10:03:00Z')
  assert.equal(first?.keywords, null)
  assert.equal(first?.hasAttachment, null)
  assert.equal(first?.size, mail(3).raw.length)
})

test('filters and other mailboxes are refused; unknown ids are null / not-found', async (t) => {
  const { backend, ctx } = await setup(t)
  await rejectsWith(backend.listMessages(ctx, 'INBOX', { limit: 5, filter: { unread: true } }), 'unsupported')
  await rejectsWith(backend.listMessages(ctx, 'Sent', { limit: 5, filter: {} }), 'unsupported')
  assert.deepEqual(await backend.getMessages(ctx, [key('nope')]), [null])
  await rejectsWith(backend.openRaw(ctx, key('nope')), 'not-found')
})

test('a connection dropped mid-RETR → 502, and the next request works', async (t) => {
  let drop = true
  const { backend, ctx, server } = await setup(t, {
    onCommand: (cmd, _a, s) => {
      if (cmd !== 'RETR' || !drop) return false
      drop = false
      s.write('+OK\r\nSubject: m1\r\n\r\npart')
      setTimeout(() => s.socket.destroy(), 20)
      return true
    },
  })
  const raw = await backend.openRaw(ctx, key('uid-1'))
  await rejectsWith(readAll(raw.stream), 'upstream-unavailable')
  const again = await backend.openRaw(ctx, key('uid-1'))
  assert.deepEqual(await readAll(again.stream), server.messages[0]?.raw)
})

test('a stall mid-message → 504 within the timeout', async (t) => {
  const { backend, ctx } = await setup(t, {
    onCommand: (cmd, _a, s) => cmd === 'RETR' && (s.write('+OK\r\nSubject: m1\r\n'), true),
  }, 300, 300)
  await rejectsWith(backend.getMessages(ctx, [key('uid-1')]), 'upstream-timeout')
})

test('a message dripped a byte at a time (each within the timeout) → 504 within the operation bound, not held for good', async (t) => {
  const drips: NodeJS.Timeout[] = []
  const { backend, ctx } = await setup(t, {
    onCommand: (cmd, _a, s) => {
      if (cmd !== 'RETR') return false
      s.write('+OK\r\nSubject: m1\r\n\r\n')
      drips.push(setInterval(() => s.write('x'), 30))
      return true
    },
  }, 300, 100)
  t.after(() => drips.forEach(clearInterval))
  const started = Date.now()
  // 100 ms between bytes never trips the inactivity timer; 4 × 100 ms bounds the read
  await rejectsWith(backend.getMessages(ctx, [key('uid-1')]), 'upstream-timeout')
  assert.ok(Date.now() - started < 3000, `${Date.now() - started} ms`)
})

test('[IN-USE] from another client → 409 mailbox-locked', async (t) => {
  const { backend, ctx, server } = await setup(t)
  const other = await connectPop3(clientOptions(server.port))
  await rejectsWith(backend.listMailboxes(ctx), 'mailbox-locked')
  await other.quit()
  assert.equal((await backend.listMailboxes(ctx))[0]?.totalEmails, 3)
})

test('wrong password → auth-failed with one connection attempt; a held session is never lent to other credentials', async (t) => {
  const { backend, guard, settings, server } = await setup(t, {}, 5000)
  await backend.login(settings)
  const calls = guard.calls
  await rejectsWith(backend.login({ ...settings, password: 'wrong' }), 'auth-failed')
  assert.equal(guard.calls - calls, 1)
  assert.equal(server.logins, 2)
  assert.equal((await backend.listMailboxes({ accountId: 'acc', settings }))[0]?.totalEmails, 3)
  assert.equal(server.logins, 3, 'the right password still logs in')
  // remembered: the same wrong password is answered without another login, and
  // without ending the right one's session, which the next request reuses
  await rejectsWith(backend.listMailboxes({ accountId: 'acc', settings: { ...settings, password: 'wrong' } }), 'auth-failed')
  await rejectsWith(backend.login({ ...settings, password: 'wrong' }), 'auth-failed')
  assert.equal(guard.calls - calls, 2)
  assert.equal((await backend.getMessages({ accountId: 'acc', settings }, [key('uid-1')]))[0]?.subject, 'm1')
  assert.equal(server.logins, 3)
})

test('a bare -ERR to a login step is remembered only from a server that announces RESP-CODES', async (t) => {
  for (const [capa, attempts] of [[['TOP', 'UIDL', 'USER', 'SASL PLAIN'], 2], [['TOP', 'UIDL', 'USER', 'RESP-CODES', 'SASL PLAIN'], 1]] as const) {
    // without response codes a bare -ERR may be a passing lock: asked again; with them it is the credentials
    const { backend, settings, server } = await setup(t, {
      capa: [...capa],
      onCommand: (cmd, _a, s) => (cmd === 'PASS' || cmd === 'AUTH') && (server.logins++, s.write('-ERR try again later\r\n'), true),
    })
    await rejectsWith(backend.login(settings), 'auth-failed')
    await rejectsWith(backend.login(settings), 'auth-failed')
    assert.equal(server.logins, attempts, capa.join(' '))
  }
})

test('a remembered rejection expires: the server is asked again after authFailureTtlMs', async (t) => {
  const server = await startFakeServer({ lock: true, messages: [1].map(mail) })
  const backend = createPop3Backend({ guard: loopbackGuard(), timeoutMs: 2000, idleQuitMs: 100, authFailureTtlMs: 150 })
  t.after(async () => { await backend.close(); await server.close() })
  const wrong: ConnectionSettings = { protocol: 'pop3', host: '127.0.0.1', port: server.port, security: 'none', username: 'alice', password: 'wrong' }
  await rejectsWith(backend.login(wrong), 'auth-failed')
  await rejectsWith(backend.login(wrong), 'auth-failed')
  assert.equal(server.logins, 1)
  await delay(200)
  await rejectsWith(backend.login(wrong), 'auth-failed')
  assert.equal(server.logins, 2)
})

test('a raw download holds the session until the stream ends, then it QUITs', async (t) => {
  const { backend, ctx, server } = await setup(t, {}, 100)
  const raw = await backend.openRaw(ctx, key('uid-2'))
  await delay(300)
  assert.equal(server.openSessions, 1, 'held while the stream is open')
  assert.deepEqual(await readAll(raw.stream), mail(2).raw)
  assert.equal(raw.size, null, 'POP3 raw is sent without a Content-Length (LIST sizes are not exact everywhere)')
  await delay(300)
  assert.equal(server.openSessions, 0)
})

test('a read waiting for the parse budget keeps its session on a server with LOGIN-DELAY, where a new login would be refused', async (t) => {
  const server = await startFakeServer({ lock: true, messages: [mail(1)], capa: ['USER', 'UIDL', 'TOP', 'LOGIN-DELAY 900'] })
  const budget = new ByteBudget(1024 * 1024, { groupShare: 1 })
  const backend = createPop3Backend({ guard: loopbackGuard(), timeoutMs: 2000, idleQuitMs: 50, parseBudget: budget })
  t.after(async () => { await backend.close(); await server.close() })
  const ctx: AccountContext = { accountId: 'acc', settings: { protocol: 'pop3', host: '127.0.0.1', port: server.port, security: 'none', username: 'alice', password: 'secret' } }
  const hog = budget.permit()
  await hog.acquire(1024 * 1024)
  const read = backend.getMessages(ctx, [key('uid-1')])
  await waitFor(() => budget.stats().waiting === 1, 5000, 'the read queues for the budget')
  await delay(300) // well past the idle QUIT
  assert.equal(server.openSessions, 1, 'the session stays open while the read waits')
  hog.release()
  assert.deepEqual((await read).map(m => m?.subject), ['m1'])
  assert.equal(server.logins, 1, 'no second login')
})
