/**
 * Reading POP3 mail never deletes it, even from a server that announces
 * `EXPIRE 0`: such a server may remove retrieved messages at QUIT (RFC 2449
 * §6.7), so after a RETR the gateway ends the session without QUIT (RFC 1939
 * §6: no UPDATE state). A scripted server that does delete them checks it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createPop3Backend } from '../../src/backends/pop3/index.ts'
import type { AccountContext } from '../../src/mail/backend.ts'
import { waitFor } from '../env/wait.ts'
import { Wire } from '../env/wire.ts'
import { startFakeServer, type FakeMessage, type FakeServer, type FakeSession } from './fake-server.ts'
import { loopbackGuard, readAll } from './helpers.ts'

const mail = (i: number): FakeMessage => ({
  uid: `uid-${i}`,
  raw: Buffer.from(`Subject: m${i}\r\nFrom: A <a@example.com>\r\n\r\nbody ${i}\r\n`),
})

/** A server with `EXPIRE 0` that removes the messages a session retrieved when it QUITs. */
async function expiringServer (): Promise<FakeServer> {
  const retrieved = new WeakMap<FakeSession, Set<FakeMessage>>()
  const server = await startFakeServer({
    lock: true,
    messages: [1, 2, 3].map(mail),
    capa: ['TOP', 'UIDL', 'USER', 'RESP-CODES', 'PIPELINING', 'EXPIRE 0'],
    onCommand: (cmd, args, s) => {
      const m = cmd === 'RETR' ? s.message(args) : null
      if (m !== null) retrieved.set(s, (retrieved.get(s) ?? new Set()).add(m))
      if (cmd === 'QUIT' && s.user !== null) {
        for (const gone of retrieved.get(s) ?? []) server.messages.splice(server.messages.indexOf(gone), 1)
      }
      return false
    },
  })
  return server
}

const uids = (server: FakeServer): string[] => server.messages.map(m => m.uid)

test('the scripted server does delete retrieved mail at QUIT (so the next test can fail)', async (t) => {
  const server = await expiringServer()
  t.after(() => server.close())
  const wire = await Wire.open({ port: server.port })
  try {
    await wire.readLine()
    await wire.command('USER alice', () => true)
    await wire.command('PASS secret', () => true)
    await wire.command('RETR 1', l => l === '.')
    await wire.command('QUIT', () => true)
  } finally {
    wire.close()
  }
  assert.deepEqual(uids(server), ['uid-2', 'uid-3'])
})

test('reads through the backend and the idle close leave an EXPIRE 0 maildrop unchanged', async (t) => {
  const server = await expiringServer()
  const backend = createPop3Backend({ guard: loopbackGuard(), timeoutMs: 2000, idleQuitMs: 50 })
  t.after(async () => { await backend.close(); await server.close() })
  const ctx: AccountContext = {
    accountId: 'acc',
    settings: { protocol: 'pop3', host: '127.0.0.1', port: server.port, security: 'none', username: 'alice', password: 'secret' },
  }
  const key = (uid: string) => ({ mailbox: 'INBOX', validity: null, key: uid })

  const page = await backend.listMessages(ctx, 'INBOX', { limit: 10, filter: {} })
  assert.equal(page.total, 3)
  const [m1] = await backend.getMessages(ctx, [key('uid-1')])
  assert.equal(m1?.subject, 'm1')
  const raw = await backend.openRaw(ctx, key('uid-2'))
  assert.match((await readAll(raw.stream)).toString('latin1'), /Subject: m2/)
  assert.ok(server.commands.includes('RETR 1') && server.commands.includes('RETR 2'), server.commands.join(','))

  // the session ends once idle (its lock is released) …
  await waitFor(() => server.connections > 0 && server.sessions.size === 0, 5000, 'the idle close')
  // … and every message is still there
  assert.deepEqual(uids(server), ['uid-1', 'uid-2', 'uid-3'])
  const again = await backend.listMessages(ctx, 'INBOX', { limit: 10, filter: {} })
  assert.equal(again.total, 3)
})
