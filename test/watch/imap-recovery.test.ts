// The IMAP watcher when its connection goes away (doveadm kick), when its password stops
// working, and when a mailbox's UIDVALIDITY changes — against the real Dovecot.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, describe, it } from 'node:test'
import { encodeMessageId } from '../../src/mail/ids.ts'
import type { ChangeSource } from '../../src/mail/watch-source.ts'
import { env, mail, makeBackend, newAccount } from '../imap/helpers.ts'
import { callerFor, Recorder, rig, watching } from './helpers.ts'
import { SnapshotSource } from './snapshot-source.ts'

const run = promisify(execFile)

/** Ends every session of the user on the server, as an administrator would. */
async function kick (username: string): Promise<void> {
  await run('doveadm', ['-c', env.dovecot.info.configFile, 'kick', username])
}

/** Gives the user a new password in Dovecot's passwd-file (written aside, renamed in). */
async function changePassword (username: string): Promise<void> {
  const file = join(env.dovecot.info.usersDir, username)
  await writeFile(`${file}.tmp`, `${username}:{PLAIN}changed-${Date.now()}\n`, { mode: 0o644 })
  await rename(`${file}.tmp`, file)
}

/** Every mailbox has one state forever: nothing ever changes. */
const quietSource: ChangeSource = {
  state: async () => 'still',
  changes: async (_caller, _path, since) => ({ kind: 'changes', changes: { oldState: since, newState: since, hasMoreChanges: false, created: [], updated: [], destroyed: [] } }),
}

describe('IMAP watcher recovery', () => {
  // rejected logins are not remembered by the pool here: only the watcher can keep from retrying
  const { backend } = makeBackend({ authFailureTtlMs: 0 })
  after(async () => { await backend.close() })

  it('after a kick, emits exactly the changes made while it was away', async () => {
    const { user, settings } = await newAccount('watch-kick')
    const caller = callerFor(settings)
    // the reconnect waits 2 s after a drop: the mail below arrives while nothing listens
    const { watchers, bus } = rig(backend, new SnapshotSource(user), { pollMs: 60_000, backoffMs: 2000 })
    const seen = new Recorder(bus, caller.account.id)
    const handle = await watchers.acquire(caller)
    try {
      await watching(watchers, caller.account.id)
      const before = await env.dovecot.deliver(user.username, mail({ subject: 'before' }))
      const idOf = (uid: number): string => encodeMessageId(caller.account.id, { mailbox: 'INBOX', validity: String(before.uidValidity), key: String(uid) })
      await seen.until(() => seen.ids('message.created').includes(idOf(before.uid)), 'the first message')
      await kick(user.username)
      const missed = await env.dovecot.deliverMany(user.username, [1, 2, 3].map(n => ({ raw: mail({ subject: `missed ${n}` }) })))
      const want = [before.uid, ...missed.map(m => m.uid)].map(idOf)
      await seen.until(() => want.every(id => seen.ids('message.created').includes(id)), 'the missed messages')
      // a later change proves the watcher listens again, and nothing was sent twice
      const later = await env.dovecot.deliver(user.username, mail({ subject: 'later' }))
      await seen.until(() => seen.ids('message.created').includes(idOf(later.uid)), 'a message after the reconnect')
      const created = seen.ids('message.created')
      assert.deepEqual([...created].sort(), [...want, idOf(later.uid)].sort(), 'each message announced once')
      const ids = seen.events.map(e => e.id)
      assert.equal(new Set(ids).size, ids.length, 'no event id twice')
      assert.equal(seen.of('account.error').length, 0, 'a drop of a working connection is not an account error')
    } finally {
      handle.release()
      await watchers.close()
    }
  })

  it('a rejected login: one account.error auth-failed, and no login tried again', async () => {
    const { user, settings } = await newAccount('watch-auth')
    const caller = callerFor(settings)
    const { watchers, bus } = rig(backend, quietSource, { pollMs: 60_000, backoffMs: 100, maxBackoffMs: 200 })
    const seen = new Recorder(bus, caller.account.id)
    const handle = await watchers.acquire(caller)
    try {
      await watching(watchers, caller.account.id)
      await changePassword(user.username)
      // Dovecot re-reads a changed passwd file at most once a second: a reconnect sooner could
      // still log in with the old password
      await new Promise((resolve) => setTimeout(resolve, 1500))
      await kick(user.username)
      await seen.until(() => seen.of('account.error').length > 0, 'account.error')
      assert.equal(seen.of('account.error')[0]!.code, 'auth-failed')
      // with 100-200 ms between attempts, a watcher that retried would have tried ~20 times
      await new Promise((resolve) => setTimeout(resolve, 4000))
      assert.equal(await env.dovecot.passwordMismatchCount(user.username), 1, 'one login with the old password')
      assert.equal(seen.of('account.error').length, 1)
      assert.equal(await env.dovecot.connectionCount(user.username, 'imap'), 0)
    } finally {
      handle.release()
      await watchers.close()
    }
  })

  it('a password changed on the server stops the watcher within CONNECTION_MAX_AGE_MS, no kick needed', async () => {
    const aging = makeBackend({ authFailureTtlMs: 0, maxAgeMs: 1500 })
    const { user, settings } = await newAccount('watch-age')
    const caller = callerFor(settings)
    // a source that never logs in itself: every failed login counted below is the watcher's
    const { watchers, bus } = rig(aging.backend, quietSource, { pollMs: 500 })
    const seen = new Recorder(bus, caller.account.id)
    const handle = await watchers.acquire(caller)
    try {
      await watching(watchers, caller.account.id)
      await changePassword(user.username)
      await seen.until(() => seen.of('account.error').length > 0, 'account.error')
      assert.equal(seen.of('account.error')[0]!.code, 'auth-failed')
      assert.equal(await env.dovecot.passwordMismatchCount(user.username), 1)
    } finally {
      handle.release()
      await watchers.close()
      await aging.backend.close()
    }
  })

  it('UIDVALIDITY changed: mailbox.reset, then changes from the new state', async () => {
    const { user, settings } = await newAccount('watch-reset')
    const caller = callerFor(settings)
    const { watchers, bus } = rig(backend, new SnapshotSource(user), { pollMs: 500 })
    const seen = new Recorder(bus, caller.account.id)
    await env.dovecot.deliver(user.username, mail({ subject: 'old' }), { mailbox: 'Archive' })
    const handle = await watchers.acquire(caller)
    try {
      await watching(watchers, caller.account.id, ['INBOX', 'Archive'])
      await env.dovecot.setUidValidity(user.username, 'Archive', 4242)
      await seen.until(() => seen.of('mailbox.reset').length > 0, 'mailbox.reset')
      const archiveId = seen.of('mailbox.reset')[0]!.mailboxId
      const next = await env.dovecot.deliver(user.username, mail({ subject: 'new' }), { mailbox: 'Archive' })
      assert.equal(next.uidValidity, 4242)
      const id = encodeMessageId(caller.account.id, { mailbox: 'Archive', validity: '4242', key: String(next.uid) })
      await seen.until(() => seen.ids('message.created').includes(id), 'message.created under the new UIDVALIDITY')
      assert.equal(seen.of('mailbox.reset').length, 1)
      assert.equal(seen.of('message.created').every(e => e.mailboxId === archiveId), true)
    } finally {
      handle.release()
      await watchers.close()
    }
  })
})
