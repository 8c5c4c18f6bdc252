/**
 * `Mailbox.state` and `changes` over IMAP (Dovecot: CONDSTORE and QRESYNC):
 * another client appends, flags and expunges through a raw session, and the
 * gateway's changes name exactly those messages; a recreated mailbox is 410;
 * a state that is not this mailbox's own is 400.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { encodeMailboxId, encodeMessageId } from '../../src/mail/ids.ts'
import { startGateway, type Gateway } from '../e2e/gateway.ts'
import type { TestUser } from '../env/dovecot-ops.ts'
import { imapSession, type ImapSession } from '../env/sessions.ts'
import { mailboxIds, sender, type Send } from '../writes/helpers.ts'
import { allChanges, append, changes, currentState, message, ok, stateOf, uidValidityOf } from './helpers.ts'

describe('IMAP mailbox state and changes', { timeout: 120_000 }, () => {
  let gw: Gateway
  let user: TestUser
  let send: Send
  let accountId: string
  let boxes: Map<string, string>
  let raw: ImapSession
  let token: string

  before(async () => {
    gw = await startGateway()
    user = await gw.env.dovecot.createUser('changes')
    const login = await gw.login(user)
    accountId = login.account.id
    assert.equal(login.account.capabilities.changes, true)
    token = login.token
    send = sender(gw, token)
    raw = await imapSession(gw.env.dovecot.ports.imap, user)
    boxes = await mailboxIds(send)
  })
  after(async () => {
    raw.close()
    await gw.close()
  })

  const idOf = (mailbox: string, validity: string, uid: number): string => encodeMessageId(accountId, { mailbox, validity, key: String(uid) })

  it('names what another client appended, flagged and expunged, each in one list', async () => {
    await ok(raw, 'SELECT INBOX')
    await append(raw, 'INBOX', message(1))
    const flag = await append(raw, 'INBOX', message(2))
    const drop = await append(raw, 'INBOX', message(3))
    const validity = await uidValidityOf(raw, 'INBOX')
    const inbox = boxes.get('INBOX')!
    const since = await currentState(send, inbox)

    const quiet = await changes(send, inbox, since)
    assert.equal(quiet.status, 200, JSON.stringify(quiet.body))
    assert.deepEqual(quiet.body, { oldState: since, newState: since, hasMoreChanges: false, created: [], updated: [], destroyed: [] })

    const added = await append(raw, 'INBOX', message(4), ['\\Seen'])
    const addedThenGone = await append(raw, 'INBOX', message(5))
    await ok(raw, `UID STORE ${flag} +FLAGS (\\Flagged)`)
    await ok(raw, `UID STORE ${drop},${addedThenGone} +FLAGS.SILENT (\\Deleted)`)
    await ok(raw, `UID EXPUNGE ${drop},${addedThenGone}`)

    const got = await changes(send, inbox, since)
    assert.equal(got.status, 200, JSON.stringify(got.body))
    assert.equal(got.body.oldState, since)
    assert.equal(got.body.hasMoreChanges, false)
    assert.deepEqual(got.body.created, [idOf('INBOX', validity, added)])
    assert.deepEqual(got.body.updated, [idOf('INBOX', validity, flag)])
    assert.deepEqual(got.body.destroyed, [idOf('INBOX', validity, drop)])
    assert.notEqual(got.body.newState, since)
    assert.equal(await stateOf(send, inbox) !== since, true)

    // from the new state: nothing, and the same state back
    const after = await changes(send, inbox, got.body.newState)
    assert.deepEqual(after.body, { oldState: got.body.newState, newState: got.body.newState, hasMoreChanges: false, created: [], updated: [], destroyed: [] })
  })

  it('pages by newState: limit 1 gives one id per page and the same changes in all', async () => {
    const inbox = boxes.get('INBOX')!
    const since = await currentState(send, inbox)
    await ok(raw, 'SELECT INBOX')
    const validity = await uidValidityOf(raw, 'INBOX')
    const uids = [await append(raw, 'INBOX', message(10)), await append(raw, 'INBOX', message(11)), await append(raw, 'INBOX', message(12))]
    const first = await changes(send, inbox, since, 1)
    assert.equal(first.body.hasMoreChanges, true)
    assert.equal(first.body.created.length, 1)
    const paged = await allChanges(send, inbox, since, 1)
    assert.deepEqual(paged.created, uids.map(u => idOf('INBOX', validity, u)))
    assert.deepEqual([...paged.updated, ...paged.destroyed], [])
    assert.equal(paged.newState, (await allChanges(send, inbox, since)).newState, 'paged or not, the sequence leads to one state')
  })

  it('410 cannot-calculate-changes once the mailbox was deleted and created again (UIDVALIDITY)', async () => {
    await ok(raw, 'CREATE Phoenix')
    await append(raw, 'Phoenix', message(20))
    const before = await uidValidityOf(raw, 'Phoenix')
    const id = encodeMailboxId(accountId, 'Phoenix')
    // not listed yet (lists are shared for CACHE_MAX_STALENESS_MS): the state straight from the server
    const since = await gw.service.mailboxState(await gw.service.authenticate(token), id)
    assert.ok(since !== null)
    await ok(raw, 'DELETE Phoenix')
    await ok(raw, 'CREATE Phoenix')
    await gw.env.dovecot.setUidValidity(user.username, 'Phoenix', Number(before) + 7)
    // more mail than before: only UIDVALIDITY tells the two mailboxes apart
    for (let n = 21; n < 25; n++) await append(raw, 'Phoenix', message(n))
    const got = await changes(send, id, since)
    assert.equal(got.status, 410, JSON.stringify(got.body))
    assert.equal(got.body.code, 'cannot-calculate-changes')
  })

  it('400 for a garbage, tampered, other-mailbox or other-account state; never 500', async () => {
    const inbox = boxes.get('INBOX')!
    const sent = boxes.get('Sent')!
    const good = await stateOf(send, inbox)
    const flipped = good.slice(0, 5) + (good[5] === 'A' ? 'B' : 'A') + good.slice(6)
    const other = await gw.env.dovecot.createUser('changes-other')
    const otherSend = sender(gw, (await gw.login(other)).token)
    const otherState = await stateOf(otherSend, (await mailboxIds(otherSend)).get('INBOX')!)
    for (const since of ['abc', 'x'.repeat(600), flipped, await stateOf(send, sent), otherState, good + 'A', '%00']) {
      const got = await changes(send, inbox, since)
      assert.equal(got.status, 400, `${since}: ${JSON.stringify(got.body)}`)
    }
    const noSince = await send('GET', `/v1/mailboxes/${inbox}/changes`)
    assert.equal(noSince.statusCode, 400)
    for (const limit of ['0', '1001', 'x']) {
      assert.equal((await send('GET', `/v1/mailboxes/${inbox}/changes?since=${good}&limit=${limit}`)).statusCode, 400)
    }
  })
})
