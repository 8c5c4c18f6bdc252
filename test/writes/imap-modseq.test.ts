/**
 * `modseq` on reads against the real Dovecot (CONDSTORE): the version a list
 * item and a message show is the MODSEQ an independent raw client fetches,
 * it moves when another client changes the flags (also for an entry the
 * gateway had cached), and it is the version PATCH's If-Match takes.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startGateway, type Gateway } from '../e2e/gateway.ts'
import type { ImapSession } from '../env/sessions.ts'
import type { TestUser } from '../env/dovecot-ops.ts'
import { mail, mailboxIds, raw, sender, subjectsIn, type Send } from './helpers.ts'

/** `UID FETCH uid (MODSEQ)` with the raw client, in the mailbox it has selected. */
async function rawModseq (session: ImapSession, uid: number): Promise<string> {
  const lines = await session.run(`UID FETCH ${uid} (MODSEQ)`)
  const m = lines.map(l => /MODSEQ \((\d+)\)/.exec(l)).find(x => x !== null)
  assert.ok(m, lines.join('\n'))
  return m[1]!
}

describe('modseq on reads (IMAP, CONDSTORE)', { timeout: 120_000 }, () => {
  let gw: Gateway
  let user: TestUser
  let send: Send
  let session: ImapSession
  let inbox: string

  before(async () => {
    // every read revalidates: a change by another client is seen at once
    gw = await startGateway({ env: { CACHE_MAX_STALENESS_MS: '0' } })
    user = await gw.env.dovecot.createUser('modseq')
    await gw.env.dovecot.deliverMany(user.username, ['one', 'two'].map(s => ({ raw: mail(s) })))
    send = sender(gw, (await gw.login(user)).token)
    inbox = (await mailboxIds(send)).get('INBOX')!
    session = await raw(gw, user)
  })
  after(async () => {
    session?.close()
    await gw?.close()
  })

  const listed = async (subject: string): Promise<{ id: string, modseq: string | null }> => {
    const res = await send('GET', `/v1/mailboxes/${inbox}/messages`)
    assert.equal(res.statusCode, 200, res.body)
    const item = (res.json() as { items: Array<{ id: string, subject: string, modseq: string | null }> }).items.find(m => m.subject === subject)
    assert.ok(item, res.body)
    return item
  }
  const read = async (id: string): Promise<string | null> => {
    const res = await send('GET', `/v1/messages/${id}`)
    assert.equal(res.statusCode, 200, res.body)
    return (res.json() as { modseq: string | null }).modseq
  }

  it('a listed and a read message carry the MODSEQ a raw client sees, and the new one after another client\'s STORE', async () => {
    const uid = (await subjectsIn(session, 'INBOX')).get('one')!
    await session.run('SELECT INBOX')
    const before = await rawModseq(session, uid)
    const item = await listed('one')
    assert.equal(item.modseq, before)
    assert.equal(await read(item.id), before) // now cached

    await session.run(`UID STORE ${uid} +FLAGS (\\Flagged)`)
    const now = await rawModseq(session, uid)
    assert.ok(BigInt(now) > BigInt(before))
    assert.equal((await listed('one')).modseq, now, 'the list shows the new version')
    assert.equal(await read(item.id), now, 'the cached message shows the new version')

    // a change undone: the same keywords, a newer version
    await session.run(`UID STORE ${uid} +FLAGS (\\Answered)`)
    await session.run(`UID STORE ${uid} -FLAGS (\\Answered)`)
    const undone = await rawModseq(session, uid)
    assert.ok(BigInt(undone) > BigInt(now))
    assert.equal(await read(item.id), undone)
  })

  it('the modseq read from GET works as If-Match (200); an older one is 412', async () => {
    const { id } = await listed('two')
    const old = await read(id)
    assert.match(old ?? '', /^\d+$/)
    const ok = await send('PATCH', `/v1/messages/${id}`, { keywords: { $seen: true } }, { 'if-match': `"${old!}"` })
    assert.equal(ok.statusCode, 200, ok.body)
    const written = (ok.json() as { modseq: string }).modseq
    assert.equal(await read(id), written, 'the read after the write carries the PATCH\'s modseq')
    const stale = await send('PATCH', `/v1/messages/${id}`, { keywords: { $flagged: true } }, { 'if-match': `"${old!}"` })
    assert.equal(stale.statusCode, 412, stale.body)
  })
})
