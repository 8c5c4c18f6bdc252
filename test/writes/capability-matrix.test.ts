/**
 * The write suite against Dovecots that offer less: capabilities reduced with
 * `imap_capability` (without MOVE, CONDSTORE and QRESYNC; then also without
 * UIDPLUS) and an account without a Trash mailbox. The documented fallbacks
 * and 422s hold, and no plain EXPUNGE ever reaches the server: another
 * client's \Deleted message survives every move and delete.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startGateway, type Gateway } from '../e2e/gateway.ts'
import type { TestUser } from '../env/dovecot-ops.ts'
import { startDovecot, type DovecotEnv } from '../env/dovecot.ts'
import { testEnv } from '../env/shared.ts'
import { countCommands, flagsIn, mail, mailboxIds, messageIds, raw, sender, subjectsIn, type Send } from './helpers.ts'

/** The capabilities the harness Dovecot advertises after login. */
async function defaultCapabilities (): Promise<string[]> {
  const env = await testEnv()
  const user = await env.dovecot.createUser('caps')
  const { imapSession } = await import('../env/sessions.ts')
  const session = await imapSession(env.dovecot.ports.imap, user)
  try {
    const line = (await session.run('CAPABILITY')).find(l => l.startsWith('* CAPABILITY '))!
    return line.slice('* CAPABILITY '.length).split(' ')
  } finally {
    session.close()
  }
}

interface Setup { gw: Gateway, dovecot: DovecotEnv, user: TestUser, send: Send, boxes: Map<string, string>, ids: Map<string, string>, capabilities: Record<string, unknown> }

async function setup (configure: (conf: string) => string, subjects: string[]): Promise<Setup> {
  const dovecot = await startDovecot({ configure })
  const gw = await startGateway({ dovecot })
  const user = await dovecot.createUser('matrix')
  await dovecot.deliverMany(user.username, subjects.map(s => ({ raw: mail(s) })))
  const login = await gw.login(user)
  const send = sender(gw, login.token)
  const boxes = await mailboxIds(send)
  return { gw, dovecot, user, send, boxes, ids: await messageIds(send, boxes.get('INBOX')!), capabilities: login.account.capabilities }
}

async function markDeleted (s: Setup, subject: string): Promise<void> {
  const session = await raw(s.gw, s.user)
  try {
    const uid = (await subjectsIn(session, 'INBOX')).get(subject)!
    await session.run('SELECT INBOX')
    await session.run(`UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`)
  } finally {
    session.close()
  }
}

async function inbox (s: Setup): Promise<Map<string, number>> {
  const session = await raw(s.gw, s.user)
  try {
    return await subjectsIn(session, 'INBOX')
  } finally {
    session.close()
  }
}

describe('capability matrix', { timeout: 120_000 }, () => {
  let caps: string[]
  const running: Setup[] = []
  before(async () => { caps = await defaultCapabilities() })
  after(async () => {
    for (const s of running) {
      await s.gw.close()
      await s.dovecot.stop()
    }
  })
  const without = (...names: string[]) => (conf: string): string => `${conf}\nimap_capability = ${caps.filter(c => !names.includes(c)).join(' ')}\n`

  it('without MOVE (UIDPLUS kept): a move is UID COPY + UID EXPUNGE of that UID, another client\'s \\Deleted message survives; no CONDSTORE: If-Match is 428', async () => {
    assert.ok(caps.includes('MOVE') && caps.includes('UIDPLUS'), caps.join(' '))
    const s = await setup(without('MOVE', 'CONDSTORE', 'QRESYNC'), ['mover', 'bystander', 'flagme'])
    running.push(s)
    assert.equal(s.capabilities.move, true)
    assert.equal(s.capabilities.condstore, false)
    await markDeleted(s, 'bystander')
    const { result, commands } = await countCommands(() => s.send('POST', `/v1/messages/${s.ids.get('mover')}/move`, { mailboxId: s.boxes.get('Archive') }))
    assert.equal(result.statusCode, 200, result.body)
    assert.equal(typeof (result.json() as { id: unknown }).id, 'string', 'COPYUID still gives the new id')
    assert.ok(commands.includes('UID COPY') && commands.includes('UID EXPUNGE'), commands.join(' '))
    assert.ok(!commands.includes('EXPUNGE') && !commands.includes('UID MOVE'), commands.join(' '))
    const left = await inbox(s)
    assert.equal(left.has('mover'), false)
    assert.equal(left.has('bystander'), true)

    const patched = await s.send('PATCH', `/v1/messages/${s.ids.get('flagme')}`, { keywords: { $flagged: true } })
    assert.equal(patched.statusCode, 200, patched.body)
    assert.equal((patched.json() as { modseq: unknown }).modseq, null)
    const conditional = await s.send('PATCH', `/v1/messages/${s.ids.get('flagme')}`, { keywords: { $seen: true } }, { 'if-match': '"5"' })
    assert.equal(conditional.statusCode, 428, conditional.body)
    const session = await raw(s.gw, s.user)
    try {
      const uid = (await subjectsIn(session, 'INBOX')).get('flagme')!
      assert.deepEqual((await flagsIn(session, 'INBOX')).get(uid), ['\\Flagged'], 'the 428 changed nothing')
    } finally {
      session.close()
    }
  })

  it('without MOVE and UIDPLUS: move and delete are 422 and touch nothing; copy works', async () => {
    const s = await setup(without('MOVE', 'UIDPLUS'), ['stay', 'bystander'])
    running.push(s)
    assert.equal(s.capabilities.move, false)
    assert.equal(s.capabilities.delete, false)
    await markDeleted(s, 'bystander')
    const id = s.ids.get('stay')!
    const { result: moved, commands } = await countCommands(() => s.send('POST', `/v1/messages/${id}/move`, { mailboxId: s.boxes.get('Archive') }))
    assert.equal(moved.statusCode, 422, moved.body)
    assert.equal((await s.send('DELETE', `/v1/messages/${id}`)).statusCode, 422)
    assert.equal((await s.send('DELETE', `/v1/messages/${id}?permanent=true`)).statusCode, 422)
    const batch = await s.send('POST', '/v1/messages/batch', { ids: [id], action: 'move', mailboxId: s.boxes.get('Junk') })
    assert.equal(batch.statusCode, 422, batch.body)
    assert.deepEqual(commands.filter(c => /EXPUNGE|MOVE|COPY|STORE/.test(c)), [])
    const copied = await s.send('POST', `/v1/messages/${id}/copy`, { mailboxId: s.boxes.get('Archive') })
    assert.equal(copied.statusCode, 201, copied.body)
    const session = await raw(s.gw, s.user)
    try {
      assert.equal((await subjectsIn(session, 'Archive')).has('stay'), true)
    } finally {
      session.close()
    }
    const left = await inbox(s)
    assert.ok(left.has('stay') && left.has('bystander'))
  })

  it('no Trash mailbox: a delete is 422 asking for permanent=true and deletes nothing; permanent=true deletes', async () => {
    const s = await setup(conf => conf.replace('mailbox Trash {\n    special_use = \\Trash', 'mailbox Keep {'), ['precious'])
    running.push(s)
    assert.equal(s.boxes.has('Trash'), false, [...s.boxes.keys()].join(','))
    const id = s.ids.get('precious')!
    const res = await s.send('DELETE', `/v1/messages/${id}`)
    assert.equal(res.statusCode, 422, res.body)
    assert.match((res.json() as { detail: string }).detail, /permanent=true/)
    assert.equal((await inbox(s)).has('precious'), true)
    assert.equal((await s.send('DELETE', `/v1/messages/${id}?permanent=true`)).statusCode, 204)
    assert.equal((await inbox(s)).has('precious'), false)
  })
})
