// pop3_lock_session: a second POP3 login waits for the maildrop lock (Dovecot's fixed 10 s)
// and then fails with [IN-USE]; delivery is not blocked and UIDLs are stable.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { pop3Session } from './sessions.ts'
import { testEnv } from './shared.ts'

const env = await testEnv()
const { ports } = env.dovecot

test('an open POP3 session locks the maildrop; deliver() still works meanwhile', async () => {
  const user = await env.dovecot.createUser('pop3lock')
  const { uidValidity } = await env.dovecot.deliver(user.username, Buffer.from('Subject: one\r\n\r\n1\r\n'))
  const first = await pop3Session(ports.pop3, user)
  try {
    assert.match(first.pass, /^\+OK/)
    const second = await pop3Session(ports.pop3, user, 15_000)
    second.wire.close()
    assert.match(second.pass, /^-ERR \[IN-USE\]/)
    await env.dovecot.deliver(user.username, Buffer.from('Subject: two\r\n\r\n2\r\n'))
    assert.match((await first.wire.command('STAT', () => true))[0]!, /^\+OK 1 /)
    await first.wire.command('QUIT', () => true)
  } finally { first.wire.close() }
  const again = await pop3Session(ports.pop3, user)
  try {
    assert.match((await again.wire.command('STAT', () => true))[0]!, /^\+OK 2 /)
    const uidl = await again.wire.command('UIDL', (l) => l === '.')
    // pop3_uidl_format = %08Xv%08Xu: UIDVALIDITY and UID, 8 hex digits each
    const hex = (n: number): string => n.toString(16).padStart(8, '0')
    assert.equal(uidl[1]!.toLowerCase(), `1 ${hex(uidValidity)}${hex(1)}`)
    assert.equal(uidl[2]!.toLowerCase(), `2 ${hex(uidValidity)}${hex(2)}`)
  } finally { again.wire.close() }
})
