/**
 * PATCH /v1/messages/{id} against the real Dovecot: RFC 7396 on the keyword
 * map, JMAP names ↔ IMAP flags, CONDSTORE If-Match, bad names, foreign ids;
 * every effect read back with a raw IMAP session.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startGateway, type Gateway } from '../e2e/gateway.ts'
import type { TestUser } from '../env/dovecot-ops.ts'
import { flagsIn, mail, mailboxIds, messageIds, raw, sender, subjectsIn, type Send } from './helpers.ts'

describe('keyword writes (IMAP)', { timeout: 120_000 }, () => {
  let gw: Gateway
  let user: TestUser
  let send: Send
  let ids: Map<string, string>

  before(async () => {
    gw = await startGateway()
    user = await gw.env.dovecot.createUser('kw')
    await gw.env.dovecot.deliverMany(user.username, ['one', 'two', 'three', 'four'].map(s => ({ raw: mail(s) })))
    send = sender(gw, (await gw.login(user)).token)
    ids = await messageIds(send, (await mailboxIds(send)).get('INBOX')!)
  })
  after(async () => { await gw?.close() })

  it('sets and clears as a merge-patch: keywords not named stay, also those another client set meanwhile', async () => {
    const id = ids.get('one')!
    assert.equal((await send('GET', `/v1/messages/${id}`)).statusCode, 200) // cached before the write
    const first = await send('PATCH', `/v1/messages/${id}`, { keywords: { $seen: true, $flagged: true, $forwarded: true, 'my-label': true } }, { 'content-type': 'application/merge-patch+json' })
    assert.equal(first.statusCode, 200, first.body)
    const body = first.json() as { id: string, keywords: string[], modseq: string | null, dropped: string[] }
    assert.deepEqual(body.keywords, ['$flagged', '$forwarded', '$seen', 'my-label'])
    assert.deepEqual(body.dropped, [])
    assert.match(body.modseq ?? '', /^\d+$/)

    const session = await raw(gw, user)
    try {
      const uid = (await subjectsIn(session, 'INBOX')).get('one')!
      assert.deepEqual((await flagsIn(session, 'INBOX')).get(uid)?.sort(), ['$forwarded', '\\Flagged', '\\Seen', 'my-label'].sort())
      await session.run('SELECT INBOX')
      await session.run(`UID STORE ${uid} +FLAGS (\\Answered)`)
      const second = await send('PATCH', `/v1/messages/${id}`, { keywords: { $flagged: null, 'my-label': false } })
      assert.equal(second.statusCode, 200, second.body)
      assert.deepEqual((second.json() as { keywords: string[] }).keywords, ['$answered', '$forwarded', '$seen'])
      assert.deepEqual((await flagsIn(session, 'INBOX')).get(uid)?.sort(), ['$forwarded', '\\Answered', '\\Seen'].sort())
    } finally {
      session.close()
    }
    // read-your-writes: the cached message shows the change at once
    const read = await send('GET', `/v1/messages/${id}`)
    assert.deepEqual((read.json() as { keywords: string[] }).keywords, ['$answered', '$forwarded', '$seen'])
  })

  it('If-Match: the modseq of the last answer is honoured; after another client\'s change it is 412 with the current keywords, and nothing is changed', async () => {
    const id = ids.get('two')!
    const first = (await send('PATCH', `/v1/messages/${id}`, { keywords: { $seen: true } })).json() as { modseq: string }
    const ok = await send('PATCH', `/v1/messages/${id}`, { keywords: { $flagged: true } }, { 'if-match': `"${first.modseq}"` })
    assert.equal(ok.statusCode, 200, ok.body)
    const { modseq } = ok.json() as { modseq: string }
    assert.ok(BigInt(modseq) > BigInt(first.modseq))

    const session = await raw(gw, user)
    try {
      const uid = (await subjectsIn(session, 'INBOX')).get('two')!
      await session.run('SELECT INBOX')
      await session.run(`UID STORE ${uid} +FLAGS (\\Answered)`)
      const conflict = await send('PATCH', `/v1/messages/${id}`, { keywords: { $seen: null } }, { 'if-match': `"${modseq}"` })
      assert.equal(conflict.statusCode, 412, conflict.body)
      const problem = conflict.json() as { code: string, keywords: string[], modseq: string }
      assert.equal(problem.code, 'precondition-failed')
      assert.deepEqual(problem.keywords, ['$answered', '$flagged', '$seen'])
      assert.deepEqual((await flagsIn(session, 'INBOX')).get(uid)?.sort(), ['\\Answered', '\\Flagged', '\\Seen'], '$seen was not cleared')
    } finally {
      session.close()
    }
    assert.equal((await send('PATCH', `/v1/messages/${id}`, { keywords: { $seen: true } }, { 'if-match': 'W/"1"' })).statusCode, 400)
  })

  it('refuses names IMAP cannot carry, \\Deleted included, and changes nothing', async () => {
    const id = ids.get('three')!
    for (const name of ['two words', '\\Deleted', '\\Recent', 'a(b', 'x'.repeat(256), '']) {
      const res = await send('PATCH', `/v1/messages/${id}`, { keywords: { [name]: true } })
      assert.equal(res.statusCode, 400, `${JSON.stringify(name)}: ${res.body}`)
    }
    assert.equal((await send('PATCH', `/v1/messages/${id}`, { keywords: { $seen: 'yes' } })).statusCode, 400)
    assert.equal((await send('PATCH', `/v1/messages/${id}`, { keywords: {} })).statusCode, 400)
    const session = await raw(gw, user)
    try {
      const uid = (await subjectsIn(session, 'INBOX')).get('three')!
      assert.deepEqual((await flagsIn(session, 'INBOX')).get(uid), [])
    } finally {
      session.close()
    }
  })

  it('an unknown or expunged id is 404, another account\'s id is 404 and its message untouched', async () => {
    const id = ids.get('four')!
    const other = await gw.env.dovecot.createUser('kw-other')
    await gw.env.dovecot.deliver(other.username, mail('theirs'))
    const sendOther = sender(gw, (await gw.login(other)).token)
    const theirs = (await messageIds(sendOther, (await mailboxIds(sendOther)).get('INBOX')!)).get('theirs')!
    const res = await send('PATCH', `/v1/messages/${theirs}`, { keywords: { $seen: true } })
    assert.equal(res.statusCode, 404, res.body)
    const session = await raw(gw, other)
    try {
      assert.deepEqual([...(await flagsIn(session, 'INBOX')).values()], [[]])
    } finally {
      session.close()
    }
    const mine = await raw(gw, user)
    try {
      const uid = (await subjectsIn(mine, 'INBOX')).get('four')!
      await mine.run('SELECT INBOX')
      await mine.run(`UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`)
      await mine.run(`UID EXPUNGE ${uid}`)
    } finally {
      mine.close()
    }
    const gone = await send('PATCH', `/v1/messages/${id}`, { keywords: { $seen: true } })
    assert.equal(gone.statusCode, 404, gone.body)
  })

  it('an id from before the mailbox was recreated (new UIDVALIDITY) is 410 stale-id, and the new message there is untouched', async () => {
    await gw.env.dovecot.deliver(user.username, mail('old life'), { mailbox: 'Projects' })
    const boxes = await mailboxIds(send)
    const old = (await messageIds(send, boxes.get('Projects')!)).get('old life')!
    const session = await raw(gw, user)
    try {
      await session.run('DELETE Projects')
      await session.run('CREATE Projects')
    } finally {
      session.close()
    }
    await gw.env.dovecot.deliver(user.username, mail('new life'), { mailbox: 'Projects' })
    const res = await send('PATCH', `/v1/messages/${old}`, { keywords: { $flagged: true } })
    assert.equal(res.statusCode, 410, res.body)
    const moved = await send('POST', `/v1/messages/${old}/move`, { mailboxId: boxes.get('INBOX') })
    assert.equal(moved.statusCode, 410, moved.body)
    const check = await raw(gw, user)
    try {
      assert.deepEqual([...(await flagsIn(check, 'Projects')).values()], [[]])
      assert.deepEqual([...(await subjectsIn(check, 'Projects')).keys()], ['new life'])
    } finally {
      check.close()
    }
  })
})
