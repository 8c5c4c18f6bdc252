/**
 * POST /v1/messages/batch against the real Dovecot: one result per id in
 * order, partial failure, and the upstream cost — one UID-set command per
 * mailbox and action, counted on the gateway's imapflow command queue.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startGateway, type Gateway } from '../e2e/gateway.ts'
import type { TestUser } from '../env/dovecot-ops.ts'
import { countCommands, flagsIn, mail, mailboxIds, messageIds, raw, sender, subjectsIn, type Send } from './helpers.ts'

interface Result { id: string, status: number, newId?: string | null, keywords?: string[], error?: { code: string } }

describe('batch writes (IMAP)', { timeout: 120_000 }, () => {
  let gw: Gateway
  let user: TestUser
  let send: Send
  let boxes: Map<string, string>
  let inbox: string[]
  let archive: string[]

  before(async () => {
    gw = await startGateway()
    user = await gw.env.dovecot.createUser('batch')
    await gw.env.dovecot.deliverMany(user.username, [
      ...Array.from({ length: 100 }, (_, i) => ({ raw: mail(`in ${i}`) })),
      ...Array.from({ length: 20 }, (_, i) => ({ raw: mail(`ar ${i}`), mailbox: 'Archive' })),
    ])
    send = sender(gw, (await gw.login(user)).token)
    boxes = await mailboxIds(send)
    inbox = [...(await messageIds(send, boxes.get('INBOX')!)).values()]
    archive = [...(await messageIds(send, boxes.get('Archive')!)).values()]
  })
  after(async () => { await gw?.close() })

  it('100 keyword updates in one mailbox cost one UID STORE; two mailboxes, two; every message changed, as a raw client sees', async () => {
    const one = await countCommands(() => send('POST', '/v1/messages/batch', { ids: inbox, action: 'update', keywords: { $seen: true } }))
    assert.equal(one.result.statusCode, 200, one.result.body)
    const results = (one.result.json() as { results: Result[] }).results
    assert.equal(results.length, 100)
    assert.ok(results.every((r, i) => r.id === inbox[i] && r.status === 200 && r.keywords?.includes('$seen')))
    assert.equal(one.commands.filter(c => c === 'UID STORE').length, 1, one.commands.join(' '))

    const two = await countCommands(() => send('POST', '/v1/messages/batch', { ids: [...inbox.slice(0, 10), ...archive], action: 'update', keywords: { $flagged: true, $seen: null } }))
    assert.equal(two.result.statusCode, 200)
    assert.equal(two.commands.filter(c => c === 'UID STORE').length, 4, 'one +FLAGS and one -FLAGS per mailbox')

    const session = await raw(gw, user)
    try {
      const flags = [...(await flagsIn(session, 'INBOX')).values()]
      assert.equal(flags.filter(f => f.includes('\\Seen')).length, 90)
      assert.equal(flags.filter(f => f.includes('\\Flagged')).length, 10)
      assert.ok([...(await flagsIn(session, 'Archive')).values()].every(f => f.join(' ') === '\\Flagged'))
    } finally {
      session.close()
    }
  })

  it('partial failure: unknown, malformed and foreign ids fail alone, in order, the rest are acted on', async () => {
    const other = await gw.env.dovecot.createUser('batch-other')
    await gw.env.dovecot.deliver(other.username, mail('theirs'))
    const sendOther = sender(gw, (await gw.login(other)).token)
    const theirs = [...(await messageIds(sendOther, (await mailboxIds(sendOther)).get('INBOX')!)).values()][0]!
    const ids = [archive[0]!, 'not-an-id!', theirs, archive[1]!, archive[0]!]
    const res = await send('POST', '/v1/messages/batch', { ids, action: 'move', mailboxId: boxes.get('Junk') })
    assert.equal(res.statusCode, 200, res.body)
    const results = (res.json() as { results: Result[] }).results
    assert.deepEqual(results.map(r => [r.id, r.status]), [[archive[0], 200], ['not-an-id!', 400], [theirs, 404], [archive[1], 200], [archive[0], 200]])
    assert.equal(results[0]!.newId, results[4]!.newId, 'a repeated id is acted on once')
    const session = await raw(gw, user)
    try {
      assert.equal((await subjectsIn(session, 'Junk')).size, 2)
    } finally {
      session.close()
    }
    const again = await send('POST', '/v1/messages/batch', { ids: [archive[0]!], action: 'delete', permanent: true })
    assert.equal((again.json() as { results: Result[] }).results[0]!.status, 404, 'the moved id is retired')
    assert.equal((await send('POST', '/v1/messages/batch', { ids: Array.from({ length: 1001 }, () => archive[2]!), action: 'delete' })).statusCode, 400)
  })
})
