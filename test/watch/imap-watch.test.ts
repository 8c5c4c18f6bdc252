// The IMAP watcher against the real Dovecot: changes made by another client (raw IMAP, the
// harness's APPEND) become events on the bus, INBOX by IDLE and the other subscribed
// mailboxes by STATUS polls, on one watch connection per account that goes away after the
// last handle and the grace period.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { encodeMessageId } from '../../src/mail/ids.ts'
import { imapSession } from '../env/sessions.ts'
import { env, mail, makeBackend, newAccount } from '../imap/helpers.ts'
import { callerFor, Recorder, rig, trackIdle, watching } from './helpers.ts'
import { SnapshotSource } from './snapshot-source.ts'

describe('IMAP watcher', () => {
  const { backend } = makeBackend()
  after(async () => { await backend.close() })

  it('turns another client\'s APPEND, STORE and EXPUNGE in INBOX into events', async () => {
    const { user, settings } = await newAccount('watch-inbox')
    const caller = callerFor(settings)
    const { watchers, bus } = rig(backend, new SnapshotSource(user), { pollMs: 60_000 })
    const seen = new Recorder(bus, caller.account.id)
    const handle = await watchers.acquire(caller)
    try {
      await watching(watchers, caller.account.id)
      const { uidValidity, uid } = await env.dovecot.deliver(user.username, mail({ subject: 'pushed' }))
      const id = encodeMessageId(caller.account.id, { mailbox: 'INBOX', validity: String(uidValidity), key: String(uid) })
      await seen.until(() => seen.ids('message.created').includes(id), 'message.created')

      const raw = await imapSession(env.dovecot.ports.imap, user)
      try {
        await raw.run('SELECT INBOX')
        await raw.run(`UID STORE ${uid} +FLAGS (\\Flagged $Label1)`)
        await seen.until(() => seen.ids('message.updated').includes(id), 'message.updated')
        const updated = seen.of('message.updated').at(-1)!
        assert.deepEqual([...(updated.keywords?.[id] ?? [])].sort(), ['$Label1', '\\Flagged'].sort())

        await raw.run(`UID STORE ${uid} +FLAGS (\\Deleted)`)
        await raw.run('EXPUNGE')
        await seen.until(() => seen.ids('message.deleted').includes(id), 'message.deleted')
      } finally {
        raw.close()
      }
      assert.equal(seen.ids('message.created').filter(x => x === id).length, 1, 'one created event per message')
      for (const e of seen.events) assert.equal(e.mailboxId !== null && e.state !== null, true)
    } finally {
      handle.release()
      await watchers.close()
    }
  })

  it('polls the other subscribed mailboxes; one connection per account, none after release and grace', async () => {
    const { user, settings } = await newAccount('watch-poll')
    const caller = callerFor(settings)
    const { watchers, bus } = rig(backend, new SnapshotSource(user), { pollMs: 1000, graceMs: 500 })
    const seen = new Recorder(bus, caller.account.id)
    const idle = trackIdle(user.username)
    const first = await watchers.acquire(caller)
    const second = await watchers.acquire(callerFor(settings))
    try {
      await watching(watchers, caller.account.id, ['INBOX', 'Archive'])
      const { uidValidity, uid } = await env.dovecot.deliver(user.username, mail({ subject: 'archived' }), { mailbox: 'Archive' })
      const id = encodeMessageId(caller.account.id, { mailbox: 'Archive', validity: String(uidValidity), key: String(uid) })
      await seen.until(() => seen.ids('message.created').includes(id), 'message.created in Archive')
    } finally {
      first.release()
      first.release()
      assert.equal(watchers.size, 1, 'a second handle keeps the account watched')
      second.release()
    }
    await env.dovecot.waitForConnections(user.username, n => n === 0, 30_000)
    assert.equal(watchers.size, 0)
    assert.equal(await idle.stop(), 1, 'one IDLE connection for the account, never two')
    await watchers.close()
  })
})
