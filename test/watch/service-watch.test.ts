// Watchers composed into the real gateway (createService), computing changes with the
// service's own `changes`: events for changes made by another client (raw IMAP, raw POP3,
// the harness's APPEND), the event's state agrees with `changes`, and what a watcher
// learns reaches cached reads at once.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import type { EventBus } from '../../src/mail/events.ts'
import { encodeMessageId } from '../../src/mail/ids.ts'
import type { MailServiceOptions } from '../../src/mail/service.ts'
import { startGateway, type Gateway } from '../e2e/gateway.ts'
import { imapSession, pop3Session } from '../env/sessions.ts'
import { sender } from '../writes/helpers.ts'
import { mail } from '../imap/helpers.ts'
import { idleCount, Recorder, trackIdle, watching } from './helpers.ts'

const run = promisify(execFile)

describe('watchers in the composed gateway', () => {
  let gw: Gateway
  let bus: EventBus
  before(async () => {
    gw = await startGateway({ env: { WATCH_POLL_MS: '1000', POP3_POLL_MS: '1000', WATCH_GRACE_MS: '500', CACHE_MAX_STALENESS_MS: '600000' } })
    bus = (gw.service as unknown as { opts: MailServiceOptions }).opts.watch!.bus
  })
  after(async () => { await gw.close() })

  it('IMAP: events for another client\'s changes; their state is what changes agrees with; reads see them at once', async () => {
    const user = await gw.env.dovecot.createUser('svc-watch')
    const { token, account } = await gw.login(user)
    const send = sender(gw, token)
    const caller = await gw.service.authenticate(token)
    const seen = new Recorder(bus, account.id)
    const first = await gw.env.dovecot.deliver(user.username, mail({ subject: 'cached' }))
    const idOf = (uid: number): string => encodeMessageId(account.id, { mailbox: 'INBOX', validity: String(first.uidValidity), key: String(uid) })
    // cached before the watcher starts, with a staleness bound of 10 minutes
    assert.deepEqual((await send('GET', `/v1/messages/${idOf(first.uid)}`)).json().keywords, [])
    const idle = trackIdle(user.username)
    const handle = await gw.service.watching.acquire(caller)
    try {
      await watching(gw.service.watching, account.id, ['INBOX', 'Archive'])
      const { uid } = await gw.env.dovecot.deliver(user.username, mail({ subject: 'pushed' }))
      await seen.until(() => seen.ids('message.created').includes(idOf(uid)), 'message.created')
      const created = seen.of('message.created').at(-1)!
      const changes = await send('GET', `/v1/mailboxes/${created.mailboxId!}/changes?since=${encodeURIComponent(created.state!)}`)
      assert.equal(changes.statusCode, 200, changes.body)
      assert.deepEqual(changes.json().created, [], 'nothing after the event\'s state')

      const raw = await imapSession(gw.env.dovecot.ports.imap, user)
      try {
        await raw.run('SELECT INBOX')
        await raw.run(`UID STORE ${first.uid} +FLAGS (\\Flagged)`)
        await seen.until(() => seen.ids('message.updated').includes(idOf(first.uid)), 'message.updated')
        assert.deepEqual(seen.of('message.updated').at(-1)!.keywords?.[idOf(first.uid)], ['$flagged'])
        // the cached entry was dropped when the watcher learnt the change
        assert.deepEqual((await send('GET', `/v1/messages/${idOf(first.uid)}`)).json().keywords, ['$flagged'])

        await raw.run(`UID STORE ${uid} +FLAGS (\\Deleted)`)
        await raw.run(`UID EXPUNGE ${uid}`)
        await seen.until(() => seen.ids('message.deleted').includes(idOf(uid)), 'message.deleted')
        assert.equal((await send('GET', `/v1/messages/${idOf(uid)}`)).statusCode, 404)
      } finally {
        raw.close()
      }

      const archived = await gw.env.dovecot.deliver(user.username, mail({ subject: 'archived' }), { mailbox: 'Archive' })
      const archivedId = encodeMessageId(account.id, { mailbox: 'Archive', validity: String(archived.uidValidity), key: String(archived.uid) })
      await seen.until(() => seen.ids('message.created').includes(archivedId), 'message.created in Archive (poll)')
      const ids = seen.events.map(e => e.id)
      assert.equal(new Set(ids).size, ids.length, 'no event id twice')
    } finally {
      handle.release()
    }
    const deadline = Date.now() + 30_000
    while (await idleCount(user.username) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
    assert.equal(await idleCount(user.username), 0, 'no IDLE connection after the last release and the grace period')
    assert.equal(await idle.stop(), 1, 'one IDLE connection for the account, never two')
  })

  it('a kicked watcher emits exactly the changes made while it was away, each id once', async () => {
    const user = await gw.env.dovecot.createUser('svc-kick')
    const { token, account } = await gw.login(user)
    const caller = await gw.service.authenticate(token)
    const seen = new Recorder(bus, account.id)
    const handle = await gw.service.watching.acquire(caller)
    try {
      await watching(gw.service.watching, account.id)
      await run('doveadm', ['-c', gw.env.dovecot.info.configFile, 'kick', user.username])
      const missed = await gw.env.dovecot.deliverMany(user.username, [1, 2, 3].map(n => ({ raw: mail({ subject: `missed ${n}` }) })))
      const want = missed.map(m => encodeMessageId(account.id, { mailbox: 'INBOX', validity: String(m.uidValidity), key: String(m.uid) }))
      await seen.until(() => want.every(id => seen.ids('message.created').includes(id)), 'the missed messages')
      const later = await gw.env.dovecot.deliver(user.username, mail({ subject: 'later' }))
      const laterId = encodeMessageId(account.id, { mailbox: 'INBOX', validity: String(later.uidValidity), key: String(later.uid) })
      await seen.until(() => seen.ids('message.created').includes(laterId), 'a message after the reconnect')
      assert.deepEqual([...seen.ids('message.created')].sort(), [...want, laterId].sort(), 'each message announced once')
      const ids = seen.events.map(e => e.id)
      assert.equal(new Set(ids).size, ids.length, 'no event id twice')
    } finally {
      handle.release()
    }
  })

  it('closing the service logs the watchers out before the pools close', async () => {
    const own = await startGateway({ env: { WATCH_GRACE_MS: '60000' } })
    const user = await own.env.dovecot.createUser('svc-close')
    const { token, account } = await own.login(user)
    await own.service.watching.acquire(await own.service.authenticate(token))
    await watching(own.service.watching, account.id)
    assert.equal(await idleCount(user.username), 1)
    // the handle is still held and the grace period is a minute: only close() ends the watcher
    await own.close()
    await own.env.dovecot.waitForConnections(user.username, n => n === 0, 10_000)
    assert.equal(await idleCount(user.username), 0)
  })

  it('POP3: polled; another client\'s new mail and DELE become message.created and message.deleted', async () => {
    const user = await gw.env.dovecot.createUser('svc-pop3')
    const { token, account } = await gw.login(user, { protocol: 'pop3' })
    const caller = await gw.service.authenticate(token)
    const seen = new Recorder(bus, account.id)
    const handle = await gw.service.watching.acquire(caller)
    try {
      await watching(gw.service.watching, account.id)
      await gw.env.dovecot.deliver(user.username, mail({ subject: 'pop3 new' }))
      await seen.until(() => seen.of('message.created').length === 1, 'message.created (POP3)')
      const [id] = seen.of('message.created')[0]!.messageIds!
      const { wire, pass } = await pop3Session(gw.env.dovecot.ports.pop3, user, 20_000)
      try {
        assert.match(pass, /^\+OK/)
        await wire.command('DELE 1', () => true)
        await wire.command('QUIT', () => true)
      } finally {
        wire.close()
      }
      await seen.until(() => seen.ids('message.deleted').includes(id!), 'message.deleted (POP3)')
      assert.equal(seen.of('message.updated').length, 0)
    } finally {
      handle.release()
    }
  })
})
