// deliver() stores exact bytes, users get special-use mailboxes, and
// connectionCount()/loginCount() see the sessions of one user.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { testEnv } from './shared.ts'
import type { TestUser } from './dovecot-ops.ts'
import { fetchRaw, imapSession, pop3Session, type ImapSession } from './sessions.ts'

const env = await testEnv()
const { ports } = env.dovecot
const imap = async (user: TestUser): Promise<ImapSession> => await imapSession(ports.imap, user)

test('deliver() stores the exact bytes, flags, date and creates the mailbox', async () => {
  const user = await env.dovecot.createUser('deliver')
  const raw = Buffer.concat([
    Buffer.from('From: a@example.org\r\nSubject: caf'), Buffer.from([0xe9]),
    Buffer.from('\r\n\r\nline one\r\n.\r\n..dots\r\nno final newline')
  ])
  const date = new Date('2021-03-04T05:06:07Z')
  const inbox = await env.dovecot.deliver(user.username, raw)
  const filed = await env.dovecot.deliver(user.username, raw, { mailbox: 'Projekte/Größe', flags: ['\\Seen', '$Work'], date })
  const wire = await imap(user)
  try {
    await wire.run('SELECT INBOX')
    const first = await fetchRaw(wire, inbox.uid)
    assert.deepEqual(first.body, raw)
    assert.match(first.meta, /FLAGS \(\\Recent\)/)
    await wire.run('SELECT "Projekte/Gr&APYA3w-e"')
    const second = await fetchRaw(wire, filed.uid)
    assert.deepEqual(second.body, raw)
    const flags = /FLAGS \(([^)]*)\)/.exec(second.meta)?.[1]?.split(' ').sort()
    assert.deepEqual(flags, ['$Work', '\\Recent', '\\Seen'])
    assert.match(second.meta, /INTERNALDATE "04-Mar-2021 05:06:07 \+0000"/)
  } finally { wire.close() }
})

test('a message with bare LF line ends is served with CRLF', async () => {
  const user = await env.dovecot.createUser('deliver')
  const { uid } = await env.dovecot.deliver(user.username, Buffer.from('Subject: lf\n\nbody\n'))
  const wire = await imap(user)
  try {
    await wire.run('SELECT INBOX')
    assert.equal((await fetchRaw(wire, uid)).body.toString(), 'Subject: lf\r\n\r\nbody\r\n')
  } finally { wire.close() }
})

test('every user has subscribed special-use mailboxes', async () => {
  const user = await env.dovecot.createUser('special')
  const wire = await imap(user)
  try {
    const lines = await wire.run('LIST "" "*" RETURN (SPECIAL-USE SUBSCRIBED)')
    for (const name of ['Sent', 'Drafts', 'Trash', 'Junk', 'Archive']) {
      assert.ok(lines.some((l) => l === `* LIST (\\Subscribed \\${name}) "/" ${name}`), `${name}: ${lines.join('|')}`)
    }
    assert.ok(lines.some((l) => /^\* LIST \(.*\) "\/" INBOX$/.test(l)))
  } finally { wire.close() }
})

test('connectionCount() and loginCount() follow the sessions of one user only', async () => {
  const user = await env.dovecot.createUser('count')
  const other = await env.dovecot.createUser('count')
  assert.equal(await env.dovecot.connectionCount(user.username), 0)
  const tracker = env.dovecot.trackConnections(user.username)
  const sessions = await Promise.all([imap(user), imap(user), imap(user), imap(other)])
  const p = await pop3Session(ports.pop3, user)
  try {
    await env.dovecot.deliver(user.username, Buffer.from('Subject: x\r\n\r\nx\r\n'))
    assert.equal(await env.dovecot.waitForConnections(user.username, (n) => n === 4, 3000), 4)
    assert.equal(await env.dovecot.connectionCount(user.username, 'imap'), 3)
    assert.equal(await env.dovecot.connectionCount(user.username, 'pop3'), 1)
    assert.equal(await env.dovecot.connectionCount(other.username), 1)
  } finally {
    for (const s of sessions) s.close()
    p.wire.close()
  }
  assert.equal(await env.dovecot.waitForConnections(user.username, (n) => n === 0, 3000), 0)
  const tracked = await tracker.stop()
  assert.equal(tracked.max, 4)
  assert.ok(tracked.samples > 1)
  const deadline = Date.now() + 3000
  while (await env.dovecot.loginCount(user.username) < 4 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  assert.equal(await env.dovecot.loginCount(user.username, 'imap'), 3)
  assert.equal(await env.dovecot.loginCount(user.username, 'pop3'), 1)
})
