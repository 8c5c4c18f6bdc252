/**
 * Move, copy and delete against the real Dovecot, each effect read back with a
 * raw IMAP session: new ids from COPYUID, retired ids 404, Trash or a
 * permanent UID EXPUNGE of that UID only (another client's \Deleted message
 * survives), and two concurrent moves of one message.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { encodeMailboxId } from '../../src/mail/ids.ts'
import { startGateway, type Gateway } from '../e2e/gateway.ts'
import type { TestUser } from '../env/dovecot-ops.ts'
import { flagsIn, mail, mailboxIds, messageIds, raw, sender, subjectsIn, type Send } from './helpers.ts'

describe('move, copy and delete (IMAP)', { timeout: 120_000 }, () => {
  let gw: Gateway
  let user: TestUser
  let send: Send
  let boxes: Map<string, string>
  let ids: Map<string, string>
  let accountId: string

  before(async () => {
    gw = await startGateway()
    user = await gw.env.dovecot.createUser('mv')
    await gw.env.dovecot.deliverMany(user.username, ['move me', 'copy me', 'trash me', 'purge me', 'bystander', 'race', 'no-op'].map(s => ({ raw: mail(s) })))
    const login = await gw.login(user)
    accountId = login.account.id
    send = sender(gw, login.token)
    boxes = await mailboxIds(send)
    ids = await messageIds(send, boxes.get('INBOX')!)
  })
  after(async () => { await gw?.close() })

  it('move: the new id comes from COPYUID, the old id is 404, the message is in the target and no longer in the source', async () => {
    const id = ids.get('move me')!
    assert.equal((await send('GET', `/v1/messages/${id}`)).statusCode, 200)
    const res = await send('POST', `/v1/messages/${id}/move`, { mailboxId: boxes.get('Archive') })
    assert.equal(res.statusCode, 200, res.body)
    const placed = res.json() as { id: string, mailboxId: string }
    assert.equal(placed.mailboxId, boxes.get('Archive'))
    assert.equal((await send('GET', `/v1/messages/${id}`)).statusCode, 404)
    const moved = await send('GET', `/v1/messages/${placed.id}`)
    assert.equal(moved.statusCode, 200, moved.body)
    assert.equal((moved.json() as { subject: string }).subject, 'move me')
    const session = await raw(gw, user)
    try {
      assert.equal((await subjectsIn(session, 'INBOX')).has('move me'), false)
      assert.equal((await subjectsIn(session, 'Archive')).has('move me'), true)
    } finally {
      session.close()
    }
    const noop = await send('POST', `/v1/messages/${ids.get('no-op')}/move`, { mailboxId: boxes.get('INBOX') })
    assert.deepEqual(noop.json(), { id: ids.get('no-op'), mailboxId: boxes.get('INBOX') })
  })

  it('copy: 201 with the copy\'s id; the original stays', async () => {
    const res = await send('POST', `/v1/messages/${ids.get('copy me')}/copy`, { mailboxId: boxes.get('Drafts') })
    assert.equal(res.statusCode, 201, res.body)
    const copy = await send('GET', `/v1/messages/${(res.json() as { id: string }).id}`)
    assert.equal((copy.json() as { subject: string }).subject, 'copy me')
    assert.equal((await send('GET', `/v1/messages/${ids.get('copy me')}`)).statusCode, 200)
  })

  it('delete: to Trash first (200, its id there), then from Trash for good (204, gone on the server)', async () => {
    const res = await send('DELETE', `/v1/messages/${ids.get('trash me')}`)
    assert.equal(res.statusCode, 200, res.body)
    const inTrash = res.json() as { id: string, mailboxId: string }
    assert.equal(inTrash.mailboxId, boxes.get('Trash'))
    const session = await raw(gw, user)
    try {
      assert.equal((await subjectsIn(session, 'Trash')).has('trash me'), true)
      const gone = await send('DELETE', `/v1/messages/${inTrash.id}`)
      assert.equal(gone.statusCode, 204, gone.body)
      assert.equal((await subjectsIn(session, 'Trash')).has('trash me'), false)
      assert.equal((await send('GET', `/v1/messages/${inTrash.id}`)).statusCode, 404)
    } finally {
      session.close()
    }
  })

  it('a permanent delete expunges that UID only: another client\'s \\Deleted message survives', async () => {
    const session = await raw(gw, user)
    try {
      const bystander = (await subjectsIn(session, 'INBOX')).get('bystander')!
      await session.run('SELECT INBOX')
      await session.run(`UID STORE ${bystander} +FLAGS.SILENT (\\Deleted)`) // marked, not expunged
      const res = await send('DELETE', `/v1/messages/${ids.get('purge me')}?permanent=true`)
      assert.equal(res.statusCode, 204, res.body)
      const left = await subjectsIn(session, 'INBOX')
      assert.equal(left.has('purge me'), false)
      assert.equal(left.has('bystander'), true, 'the other client\'s \\Deleted message is still there')
      assert.deepEqual((await flagsIn(session, 'INBOX')).get(bystander), ['\\Deleted'])
      // and a move leaves it too
      const moved = await send('POST', `/v1/messages/${ids.get('copy me')}/move`, { mailboxId: boxes.get('Junk') })
      assert.equal(moved.statusCode, 200, moved.body)
      assert.equal((await subjectsIn(session, 'INBOX')).has('bystander'), true)
    } finally {
      session.close()
    }
  })

  it('two concurrent moves of one message: one wins, the other is 404, and the message is in exactly one place', async () => {
    const id = ids.get('race')!
    const answers = await Promise.all([
      send('POST', `/v1/messages/${id}/move`, { mailboxId: boxes.get('Archive') }),
      send('POST', `/v1/messages/${id}/move`, { mailboxId: boxes.get('Junk') }),
    ])
    assert.deepEqual(answers.map(a => a.statusCode).sort(), [200, 404], answers.map(a => a.body).join(' | '))
    const session = await raw(gw, user)
    try {
      const found = []
      for (const box of ['INBOX', 'Archive', 'Junk']) if ((await subjectsIn(session, box)).has('race')) found.push(box)
      assert.equal(found.length, 1, found.join(','))
    } finally {
      session.close()
    }
  })

  it('a target mailbox that does not exist is 404, and the message stays where it was', async () => {
    const missing = encodeMailboxId(accountId, 'No Such Folder')
    const res = await send('POST', `/v1/messages/${ids.get('no-op')}/move`, { mailboxId: missing })
    assert.equal(res.statusCode, 404, res.body)
    assert.equal((await send('GET', `/v1/messages/${ids.get('no-op')}`)).statusCode, 200)
  })
})
