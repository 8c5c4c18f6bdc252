// Reads open mailboxes read-only (EXAMINE): they change no flag another client sees.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import type { Readable } from 'node:stream'
import { imapSession } from '../env/sessions.ts'
import { env, mail, makeBackend, newAccount } from './helpers.ts'

const { backend } = makeBackend()
after(async () => { await backend.close() })

async function drain (stream: Readable): Promise<number> {
  let n = 0
  for await (const chunk of stream) n += (chunk as Buffer).length
  return n
}

test('after a list, a message read and a raw download, another client still sees \\Recent and no \\Seen', async () => {
  const { user, ctx } = await newAccount('read-only')
  const [d] = await env.dovecot.deliverMany(user.username, [{ raw: mail({ subject: 'untouched' }) }])
  const key = { mailbox: 'INBOX', validity: String(d!.uidValidity), key: String(d!.uid) }

  const page = await backend.listMessages(ctx, 'INBOX', { limit: 10, filter: {} })
  assert.deepEqual(page.items.map(i => i.subject), ['untouched'])
  const [read] = await backend.getMessages(ctx, [key])
  assert.equal(read?.subject, 'untouched')
  const raw = await backend.openRaw(ctx, key)
  assert.ok(await drain(raw.stream) > 0)
  await backend.listMailboxes(ctx)

  // \Recent goes to the first session that SELECTs the mailbox; EXAMINE never takes it
  const other = await imapSession(env.dovecot.ports.imap, user)
  try {
    const examined = await other.run('EXAMINE INBOX')
    assert.ok(examined.includes('* 1 RECENT'), examined.join('\n'))
    const [flags] = await other.run(`UID FETCH ${d!.uid} (FLAGS)`)
    assert.match(flags ?? '', /FLAGS \([^)]*\\Recent/)
    assert.doesNotMatch(flags ?? '', /\\Seen/)
  } finally {
    other.close()
  }
})
