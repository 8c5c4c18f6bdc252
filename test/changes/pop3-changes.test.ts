/**
 * POP3 `Mailbox.state` and `changes`: the state names a UIDL snapshot in the
 * cache. New mail is `created`, a message another POP3 client DELEd (and
 * QUIT) is `destroyed`, nothing is ever `updated`; a gateway whose cache does
 * not hold the snapshot (another instance without the shared cache) answers 410.
 * The maildrop is read back with a raw POP3 session.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { encodeMailboxId, encodeMessageId } from '../../src/mail/ids.ts'
import { startGateway, type Gateway } from '../e2e/gateway.ts'
import type { TestUser } from '../env/dovecot-ops.ts'
import { pop3Session } from '../env/sessions.ts'
import { mailboxIds, sender, type Send } from '../writes/helpers.ts'
import { allChanges, changes, message, stateOf } from './helpers.ts'

/** Another POP3 client: the maildrop's UIDLs, after DELE of the given ones (committed by QUIT). */
async function pop3Client (gw: Gateway, user: TestUser, dele: string[] = []): Promise<string[]> {
  // the gateway's own session holds the maildrop lock until its idle QUIT; Dovecot makes a second login wait
  const { wire, pass } = await pop3Session(gw.env.dovecot.ports.pop3, user, 20_000)
  try {
    assert.match(pass, /^\+OK/)
    const uidls = (await wire.command('UIDL', (l) => l === '.')).slice(1, -1).map(l => l.split(' ') as [string, string])
    for (const uidl of dele) {
      const n = uidls.find(([, u]) => u === uidl)?.[0]
      assert.ok(n !== undefined, `no ${uidl}`)
      assert.match((await wire.command(`DELE ${n}`, () => true))[0]!, /^\+OK/)
    }
    assert.match((await wire.command('QUIT', () => true))[0]!, /^\+OK/)
    return uidls.map(([, u]) => u).filter(u => !dele.includes(u))
  } finally {
    wire.close()
  }
}

describe('POP3 mailbox state and changes', { timeout: 180_000 }, () => {
  let gw: Gateway
  let user: TestUser
  let send: Send
  let token: string
  let accountId: string
  let inbox: string

  before(async () => {
    gw = await startGateway()
    user = await gw.env.dovecot.createUser('changes-pop3')
    await gw.env.dovecot.deliverMany(user.username, [1, 2, 3].map(n => ({ raw: message(n) })))
    const login = await gw.login(user, { protocol: 'pop3', security: 'none' })
    assert.equal(login.account.capabilities.changes, true)
    token = login.token
    accountId = login.account.id
    send = sender(gw, token)
    inbox = (await mailboxIds(send)).get('INBOX')!
  })
  after(async () => { await gw.close() })

  const idOf = (uidl: string): string => encodeMessageId(accountId, { mailbox: 'INBOX', validity: null, key: uidl })

  it('new mail is created, another client\'s DELE destroyed; paged by newState; nothing updated', async () => {
    const since = await stateOf(send, inbox)
    const quiet = await changes(send, inbox, since)
    assert.equal(quiet.status, 200, JSON.stringify(quiet.body))
    assert.deepEqual(quiet.body, { oldState: since, newState: since, hasMoreChanges: false, created: [], updated: [], destroyed: [] })

    const before = await pop3Client(gw, user)
    assert.equal(before.length, 3)
    await gw.env.dovecot.deliverMany(user.username, [4, 5].map(n => ({ raw: message(n) })))
    const now = await pop3Client(gw, user, [before[1]!])
    const created = now.filter(u => !before.includes(u))
    assert.equal(created.length, 2)

    const got = await changes(send, inbox, since)
    assert.equal(got.status, 200, JSON.stringify(got.body))
    assert.deepEqual(got.body.created.sort(), created.map(idOf).sort())
    assert.deepEqual(got.body.destroyed, [idOf(before[1]!)])
    assert.deepEqual(got.body.updated, [])
    assert.equal(got.body.hasMoreChanges, false)
    assert.notEqual(got.body.newState, since)

    const paged = await allChanges(send, inbox, since, 1)
    assert.deepEqual([...paged.created].sort(), [...got.body.created].sort())
    assert.deepEqual(paged.destroyed, got.body.destroyed)
    assert.equal(paged.newState, got.body.newState)

    const after = await changes(send, inbox, got.body.newState)
    assert.deepEqual([after.body.created, after.body.updated, after.body.destroyed, after.body.newState], [[], [], [], got.body.newState])
    // the state depends on the messages only: the listing's state (once its cached list expires) is the same
    assert.equal(await gw.service.mailboxState(await gw.service.authenticate(token), inbox), got.body.newState)
  })

  it('410 where the snapshot the state names is not kept (another instance, its own cache)', async () => {
    const since = await stateOf(send, inbox)
    const other = await startGateway()
    try {
      const got = await other.get(`/v1/mailboxes/${inbox}/changes?since=${since}`, token)
      assert.equal(got.statusCode, 410, got.body)
      assert.equal(got.json().code, 'cannot-calculate-changes')
    } finally {
      await other.close()
    }
    // where it is kept, the same state still works
    assert.equal((await changes(send, inbox, since)).status, 200)
  })

  it('a POP3 account has one mailbox: changes of any other is 422', async () => {
    const got = await changes(send, encodeMailboxId(accountId, 'Sent'), await stateOf(send, inbox))
    assert.equal(got.status, 422)
  })
})
