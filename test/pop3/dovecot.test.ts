/**
 * The POP3 backend against the real Dovecot of the test harness
 * (pop3_lock_session = yes, so the maildrop lock is real).
 */
import { before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createPop3Backend } from '../../src/backends/pop3/index.ts'
import { connectPop3 } from '../../src/backends/pop3/client/index.ts'
import type { AccountContext } from '../../src/mail/backend.ts'
import { GatewayError } from '../../src/mail/errors.ts'
import type { ConnectionSettings, Security } from '../../src/mail/types.ts'
import { createHostGuard } from '../../src/net/host-guard.ts'
import { ByteBudget } from '../../src/util/byte-budget.ts'
import { waitFor } from '../env/wait.ts'
import { testEnv, type TestEnv } from '../env/shared.ts'
import { CORPUS_DIR, corpusFiles } from '../normalise/corpus-files.ts'
import { delay } from './fake-server.ts'
import { referenceRetrieveAll } from './reference-reader.ts'
import { imapSources } from '../e2e/direct.ts'
import { readAll, rejectsWith } from './helpers.ts'

const mk = (subject: string, extra = ''): Buffer =>
  Buffer.from(`Received: from a by b; Wed, 2 Oct 2024 08:00:00 +0200\r\nFrom: Ann <ann@example.com>\r\nTo: bob@example.com\r\nSubject: ${subject}\r\nDate: Tue, 1 Oct 2024 14:00:00 +0200\r\nMessage-ID: <${subject}@example.com>\r\n\r\nHello ${subject}\r\n${extra}`)

describe('POP3 backend on Dovecot', () => {
  let env: TestEnv
  let caFile: Buffer
  const guarded = createHostGuard(['127.0.0.1'])
  let guardCalls = 0
  const guard = async (host: string): ReturnType<typeof guarded> => { guardCalls++; return await guarded(host) }

  before(async () => {
    env = await testEnv()
    caFile = readFileSync(env.dovecot.caFile)
  })

  const settingsFor = (user: { username: string, password: string }, security: Security = 'none'): ConnectionSettings => ({
    protocol: 'pop3',
    host: '127.0.0.1',
    port: security === 'tls' ? env.dovecot.ports.pop3s : env.dovecot.ports.pop3,
    security,
    username: user.username,
    password: user.password,
  })
  const backendFor = (idleQuitMs = 1000) => createPop3Backend({ guard, tlsCa: caFile, timeoutMs: 5000, idleQuitMs })
  const ctxOf = (settings: ConnectionSettings): AccountContext => ({ accountId: 'acc', settings })

  it('logs in over plain, STLS and implicit TLS and reports honest capabilities', async () => {
    const user = await env.dovecot.createUser('pop3-caps')
    const backend = backendFor()
    try {
      for (const security of ['none', 'starttls', 'tls'] as const) {
        const caps = await backend.login(settingsFor(user, security))
        assert.equal(caps.mailboxes, false)
        assert.equal(caps.keywords, false)
        assert.equal(caps.search, false)
        assert.equal(caps.top, true)
        assert.equal(caps.uidl, true)
        assert.equal(caps.pipelining, true)
        assert.equal(caps.user, true)
        assert.equal(caps.respCodes, true)
        assert.ok(Array.isArray(caps.sasl) && caps.sasl.includes('PLAIN'), security)
        if (security !== 'tls') assert.equal(caps.stls, true, security)
      }
    } finally { await backend.close() }
  })

  it('lists newest first with UIDL cursors; the one INBOX has unreadEmails null', async () => {
    const user = await env.dovecot.createUser('pop3-list')
    await env.dovecot.deliverMany(user.username, ['a', 'b', 'c', 'd', 'e'].map(s => ({ raw: mk(s) })))
    const backend = backendFor()
    const ctx = ctxOf(settingsFor(user))
    try {
      const [listed] = await backend.listMailboxes(ctx)
      const { state, ...inbox } = listed ?? {}
      assert.deepEqual(inbox, { path: 'INBOX', name: 'INBOX', parentPath: null, role: 'inbox', totalEmails: 5, unreadEmails: null, isSubscribed: true })
      // the listing's state is the UIDL snapshot taken on the same login
      assert.equal(state?.kind, 'uidl')
      assert.equal(state.kind === 'uidl' ? state.uidls.length : 0, 5)
      const subjects: string[] = []
      let after: string | undefined
      for (let i = 0; i < 3; i++) {
        const page = await backend.listMessages(ctx, 'INBOX', after === undefined ? { limit: 2, filter: {} } : { limit: 2, filter: {}, after })
        assert.equal(page.total, 5)
        subjects.push(...page.items.map(m => m.subject ?? ''))
        for (const m of page.items) {
          assert.equal(m.keywords, null)
          assert.equal(m.modseq, null)
          assert.equal(m.receivedAt, '2024-10-02T06:00:00Z', 'topmost Received: date')
          assert.equal(m.sentAt, '2024-10-01T14:00:00+02:00')
        }
        after = page.next ?? undefined
      }
      assert.deepEqual(subjects, ['e', 'd', 'c', 'b', 'a'])
      assert.equal(after, undefined)
      await rejectsWith(backend.listMessages(ctx, 'INBOX', { limit: 2, filter: { subject: 'a' } }), 'unsupported')
      const [full] = await backend.getMessages(ctx, [{ mailbox: 'INBOX', validity: null, key: (await backend.listMessages(ctx, 'INBOX', { limit: 1, filter: {} })).items[0]?.key.key ?? '' }])
      assert.equal(full?.subject, 'e')
      assert.equal(full?.text?.trim(), 'Hello e')
      assert.equal(full?.messageId, 'e@example.com')
      assert.equal(full?.keywords, null)
      assert.equal(full?.modseq, null)
    } finally { await backend.close() }
  })

  it('raw downloads equal Dovecot\'s bytes (8-bit, leading dots, no final CRLF, whole corpus)', { timeout: 120_000 }, async () => {
    const user = await env.dovecot.createUser('pop3-raw')
    const latinHead = Buffer.from('Subject: caf\xe9\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n.leading dot\r\n..two\r\n.\r\n', 'latin1')
    const latin = Buffer.concat([latinHead, Buffer.alloc(150 - latinHead.length - 2, 0xe9), Buffer.from('\r\n')])
    const tricky = [latin, mk('no-final-crlf', 'last line without break'), mk('dots', '.\r\n..\r\n...x\r\n')]
    const corpus = corpusFiles().map(f => readFileSync(join(CORPUS_DIR, f)))
    await env.dovecot.deliverMany(user.username, [...tricky, ...corpus].map(raw => ({ raw })))
    // Two independent views of the stored bytes: a naive POP3 reader and IMAP BODY[].
    const pop3 = await referenceRetrieveAll(env.dovecot.ports.pop3, user)
    const imap = await imapSources(env.dovecot.ports.imap, user)
    const backend = backendFor()
    const ctx = ctxOf(settingsFor(user))
    try {
      let n = 0
      for (const [uid, served] of pop3) {
        const raw = await backend.openRaw(ctx, { mailbox: 'INBOX', validity: null, key: uid })
        const got = await readAll(raw.stream)
        const stored = imap.get(parseInt(uid.slice(-8), 16))
        assert.ok(stored !== undefined && got.equals(stored), `UIDL ${uid}: ${got.length} bytes vs IMAP ${stored?.length}`)
        // POP3 serves the same bytes, plus a CRLF when the message lacks a final line break.
        const added = !stored.subarray(-2).equals(Buffer.from('\r\n'))
        assert.ok(served.equals(added ? Buffer.concat([stored, Buffer.from('\r\n')]) : stored), `RETR of ${uid}`)
        assert.equal(raw.size, null, 'no Content-Length announced for POP3 raw')
        if (n === 0) assert.equal(got.length, 150, 'the ISO-8859-1 message stays 150 bytes')
        n++
      }
      assert.equal(n, tricky.length + corpus.length)
    } finally { await backend.close() }
  })

  it('a mail client can log in right after the gateway\'s burst (Dovecot makes it wait during one)', async () => {
    const user = await env.dovecot.createUser('pop3-lock')
    await env.dovecot.deliver(user.username, mk('x'))
    const backend = backendFor(1000)
    const client = { guard, host: '127.0.0.1', port: env.dovecot.ports.pop3, security: 'none' as const, username: user.username, password: user.password, timeoutMs: 5000 }
    const timedLogin = async (): Promise<number> => {
      const t0 = Date.now()
      const mua = await connectPop3(client)
      const took = Date.now() - t0
      assert.equal((await mua.stat()).count, 1)
      await mua.quit()
      return took
    }
    try {
      await backend.listMessages(ctxOf(settingsFor(user)), 'INBOX', { limit: 10, filter: {} })
      // During the gateway's session Dovecot holds the other login until the lock is free…
      const blocked = await timedLogin()
      assert.ok(blocked >= 600, `login during the session took only ${blocked} ms: the lock was not held`)
      await backend.listMessages(ctxOf(settingsFor(user)), 'INBOX', { limit: 10, filter: {} })
      await delay(1500)
      // …and ~1.5 s after a request it is free at once.
      const free = await timedLogin()
      assert.ok(free < 500, `login 1.5 s after the request took ${free} ms`)
    } finally { await backend.close() }
  })

  it('a message delivered while a session is open appears in the next list call', async () => {
    const user = await env.dovecot.createUser('pop3-new')
    await env.dovecot.deliver(user.username, mk('old'))
    const backend = backendFor(10_000)
    const ctx = ctxOf(settingsFor(user))
    try {
      const first = await backend.listMessages(ctx, 'INBOX', { limit: 10, filter: {} })
      assert.equal(first.total, 1)
      assert.equal(await env.dovecot.connectionCount(user.username, 'pop3'), 1, 'the session is still open')
      await env.dovecot.deliver(user.username, mk('new'))
      const second = await backend.listMessages(ctx, 'INBOX', { limit: 10, filter: {} })
      assert.deepEqual(second.items.map(m => m.subject), ['new', 'old'])
    } finally { await backend.close() }
  })

  it('wrong password → auth-failed after exactly one login attempt', async () => {
    const user = await env.dovecot.createUser('pop3-auth')
    const backend = backendFor()
    try {
      const calls = guardCalls
      const err = await rejectsWith(backend.login({ ...settingsFor(user), password: 'wrong-password' }), 'auth-failed')
      assert.equal(err.status, 401)
      assert.equal(guardCalls - calls, 1)
      assert.ok(!err.message.includes('wrong-password'))
      assert.equal(await env.dovecot.loginCount(user.username, 'pop3'), 0)
    } finally { await backend.close() }
  })

  it('a RETR waits for the parse budget while it is spent elsewhere, then gives it back', async () => {
    const user = await env.dovecot.createUser('pop3-budget')
    await env.dovecot.deliverMany(user.username, ['x', 'y'].map(s => ({ raw: mk(s, 'z'.repeat(20_000) + '\r\n') })))
    const budget = new ByteBudget(1024 * 1024, { groupShare: 1 })
    const backend = createPop3Backend({ guard, tlsCa: caFile, timeoutMs: 5000, parseBudget: budget })
    const ctx = ctxOf(settingsFor(user))
    try {
      const page = await backend.listMessages(ctx, 'INBOX', { limit: 2, filter: {} })
      const hog = budget.permit()
      await hog.acquire(1024 * 1024)
      let settled = false
      const read = backend.getMessages(ctx, page.items.map(i => i.key)).finally(() => { settled = true })
      await waitFor(() => budget.stats().waiting > 0, 5000, 'the read queues for the budget')
      assert.equal(budget.stats().waiting, 1, 'the read queues for the budget before its RETR')
      assert.equal(settled, false)
      hog.release()
      assert.deepEqual((await read).map(m => m?.subject), ['y', 'x'])
      assert.deepEqual(budget.stats(), { capacity: 1024 * 1024, available: 1024 * 1024, waiting: 0 })
    } finally { await backend.close() }
  })

  it('a RETR waiting for the budget leaves the maildrop: its session QUITs and another instance logs in meanwhile', async () => {
    const user = await env.dovecot.createUser('pop3-budget-lease')
    await env.dovecot.deliverMany(user.username, [{ raw: mk('w') }])
    const budget = new ByteBudget(1024 * 1024, { groupShare: 1 })
    const waiting = createPop3Backend({ guard, tlsCa: caFile, timeoutMs: 5000, idleQuitMs: 100, parseBudget: budget })
    const other = backendFor(100) // another gateway instance: its own login
    const ctx = ctxOf(settingsFor(user))
    try {
      const [item] = (await waiting.listMessages(ctx, 'INBOX', { limit: 1, filter: {} })).items
      const hog = budget.permit()
      await hog.acquire(1024 * 1024)
      let settled = false
      const read = waiting.getMessages(ctx, [item!.key]).finally(() => { settled = true })
      await waitFor(() => budget.stats().waiting === 1, 5000, 'the read queues for the budget')
      // the maildrop is locked while a session is open (pop3_lock_session): the
      // other instance gets in only once the waiting read's session has QUIT
      let listed: string[] | null = null
      for (let attempt = 0; attempt < 10 && listed === null; attempt++) {
        await delay(200)
        try {
          listed = (await other.listMessages(ctx, 'INBOX', { limit: 1, filter: {} })).items.map(i => i.subject ?? '')
        } catch (err) {
          if (!(err instanceof GatewayError && err.code === 'mailbox-locked')) throw err
        }
      }
      assert.deepEqual(listed, ['w'], 'the other instance read the maildrop while the read waited')
      assert.equal(settled, false)
      await other.close() // its QUIT unlocks the maildrop for the waiting read's new login
      hog.release()
      assert.deepEqual((await read).map(m => m?.subject), ['w'])
      assert.deepEqual(budget.stats(), { capacity: 1024 * 1024, available: 1024 * 1024, waiting: 0 })
    } finally {
      await waiting.close()
      await other.close()
    }
  })

  it('a session logged in longer than maxLifeMs is not lent again, even while busy: a changed password then cuts it off', async () => {
    const user = await env.dovecot.createUser('pop-life')
    await env.dovecot.deliver(user.username, mk('life'))
    // idle QUIT and the idle re-login far away: only the session's life decides
    const backend = createPop3Backend({ guard, tlsCa: caFile, timeoutMs: 5000, idleQuitMs: 60_000, maxSessionMs: 60_000, maxLifeMs: 1000 })
    const ctx = ctxOf(settingsFor(user))
    try {
      const page = await backend.listMessages(ctx, 'INBOX', { limit: 10, filter: {} })
      const raw = await backend.openRaw(ctx, page.items[0]!.key) // holds the session: it is never idle
      await delay(1100)
      const file = join(env.dovecot.info.usersDir, user.username)
      await writeFile(`${file}.tmp`, `${user.username}:{PLAIN}changed-${user.password}\n`, { mode: 0o644 })
      await rename(`${file}.tmp`, file)
      await delay(1100)
      const next = backend.listMessages(ctx, 'INBOX', { limit: 10, filter: {} })
      await readAll(raw.stream)
      await rejectsWith(next, 'auth-failed')
      assert.equal(await env.dovecot.loginCount(user.username, 'pop3'), 1, 'one successful login, the second was refused')
    } finally { await backend.close() }
  })
})
