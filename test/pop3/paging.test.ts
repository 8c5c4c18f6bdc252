/**
 * POP3 paging is keyed on UIDL, against Dovecot: message numbers shift when
 * another client deletes a message between two pages, UIDLs do not.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { createPop3Backend } from '../../src/backends/pop3/index.ts'
import type { AccountContext, ListResult } from '../../src/mail/backend.ts'
import { pop3Session } from '../env/sessions.ts'
import { testEnv } from '../env/shared.ts'
import { loopbackGuard } from './helpers.ts'

const env = await testEnv()
const backend = createPop3Backend({ guard: loopbackGuard(), timeoutMs: 5000, idleQuitMs: 50 })
after(async () => { await backend.close() })

const msg = (subject: string): Buffer => Buffer.from(`From: Ann <ann@example.com>\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@example.com>\r\n\r\n${subject}\r\n`)
const subjects = (page: ListResult): Array<string | null> => page.items.map(i => i.subject)

test('another client deleting an older message between two pages: the next page neither repeats nor skips', async () => {
  const user = await env.dovecot.createUser('pop3-paging')
  await env.dovecot.deliverMany(user.username, ['p1', 'p2', 'p3', 'p4', 'p5'].map(s => ({ raw: msg(s) })))
  const ctx: AccountContext = {
    accountId: 'acc-paging',
    settings: { protocol: 'pop3', host: '127.0.0.1', port: env.dovecot.ports.pop3, security: 'none', username: user.username, password: user.password },
  }

  const first = await backend.listMessages(ctx, 'INBOX', { limit: 2, filter: {} })
  assert.deepEqual(subjects(first), ['p5', 'p4'])
  assert.ok(first.next !== null)

  // the gateway's session ends when idle; another POP3 client deletes the oldest message
  await env.dovecot.waitForConnections(user.username, n => n === 0)
  const { wire, pass } = await pop3Session(env.dovecot.ports.pop3, user)
  try {
    assert.match(pass, /^\+OK/)
    assert.match((await wire.command('DELE 1', () => true))[0] ?? '', /^\+OK/)
    assert.match((await wire.command('QUIT', () => true))[0] ?? '', /^\+OK/)
  } finally {
    wire.close()
  }
  await env.dovecot.waitForConnections(user.username, n => n === 0)

  // numbers moved down by one (p4 is now 3), UIDLs did not
  const second = await backend.listMessages(ctx, 'INBOX', { limit: 2, filter: {}, after: first.next })
  assert.equal(second.total, 4)
  assert.deepEqual(subjects(second), ['p3', 'p2'])
  assert.equal(second.next, null)
})
