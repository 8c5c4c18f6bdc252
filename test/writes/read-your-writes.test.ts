/**
 * Read-your-writes across instances: two gateways sharing one Redis, a long
 * staleness bound (so nothing but the write can make a read fresh). After a
 * write answers on one, the next read on the other shows it.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startGateway, type Gateway } from '../e2e/gateway.ts'
import type { TestUser } from '../env/dovecot-ops.ts'
import { mail, mailboxIds, messageIds, sender, type Send } from './helpers.ts'

describe('read-your-writes across two instances on one Redis', { timeout: 120_000 }, () => {
  let a: Gateway
  let b: Gateway
  let user: TestUser
  let onA: Send
  let onB: Send

  before(async () => {
    const env = { CACHE_MAX_STALENESS_MS: '600000' }
    a = await startGateway({ redis: true, env })
    b = await startGateway({ redis: true, env })
    user = await a.env.dovecot.createUser('ryw')
    await a.env.dovecot.deliverMany(user.username, ['flag me', 'move me'].map(s => ({ raw: mail(s) })))
    const { token } = await a.login(user)
    onA = sender(a, token)
    onB = sender(b, token) // the same token works on every instance
  })
  after(async () => {
    await a?.close()
    await b?.close()
  })

  it('a keyword change, a move and the counts they change are read at once on the other instance', async () => {
    const boxes = await mailboxIds(onB)
    const ids = await messageIds(onB, boxes.get('INBOX')!)
    const flagged = ids.get('flag me')!
    const moved = ids.get('move me')!
    // B holds both messages and the mailbox list in its memo and in Redis
    for (const id of [flagged, moved]) assert.equal((await onB('GET', `/v1/messages/${id}`)).statusCode, 200)
    const archiveBefore = ((await onB('GET', `/v1/mailboxes/${boxes.get('Archive')}`)).json() as { totalEmails: number }).totalEmails

    assert.equal((await onA('PATCH', `/v1/messages/${flagged}`, { keywords: { $flagged: true } })).statusCode, 200)
    assert.deepEqual((((await onB('GET', `/v1/messages/${flagged}`)).json()) as { keywords: string[] }).keywords, ['$flagged'])

    const res = await onA('POST', `/v1/messages/${moved}/move`, { mailboxId: boxes.get('Archive') })
    assert.equal(res.statusCode, 200, res.body)
    assert.equal((await onB('GET', `/v1/messages/${moved}`)).statusCode, 404, 'the retired id')
    assert.equal((await onB('GET', `/v1/messages/${(res.json() as { id: string }).id}`)).statusCode, 200)
    const archiveAfter = ((await onB('GET', `/v1/mailboxes/${boxes.get('Archive')}`)).json() as { totalEmails: number }).totalEmails
    assert.equal(archiveAfter, archiveBefore + 1)
  })
})
