/**
 * `changes` on servers that offer less (Dovecot with `imap_capability`
 * reduced): without CONDSTORE a mailbox has no state and `changes` is 410;
 * with CONDSTORE but no QRESYNC, appends and keyword changes are computed,
 * and an expunge (which only VANISHED could name) is 410, never a silent gap.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { StateCodec } from '../../src/mail/state-token.ts'
import { startGateway, type Gateway } from '../e2e/gateway.ts'
import { startDovecot, type DovecotEnv } from '../env/dovecot.ts'
import { imapSession, type ImapSession } from '../env/sessions.ts'
import { testEnv } from '../env/shared.ts'
import { mailboxIds, sender, type Send } from '../writes/helpers.ts'
import { append, changes, currentState, message, ok, uidValidityOf } from './helpers.ts'

interface Setup { gw: Gateway, dovecot: DovecotEnv, send: Send, raw: ImapSession, inbox: string, capabilities: Record<string, unknown>, token: string }

describe('changes where the server offers less', { timeout: 180_000 }, () => {
  let caps: string[]
  const running: Setup[] = []

  before(async () => {
    const env = await testEnv()
    const user = await env.dovecot.createUser('changes-caps')
    const session = await imapSession(env.dovecot.ports.imap, user)
    try {
      caps = (await session.run('CAPABILITY')).find(l => l.startsWith('* CAPABILITY '))!.slice('* CAPABILITY '.length).split(' ')
    } finally {
      session.close()
    }
  })
  after(async () => {
    for (const s of running) {
      s.raw.close()
      await s.gw.close()
      await s.dovecot.stop()
    }
  })

  const setup = async (...without: string[]): Promise<Setup> => {
    const dovecot = await startDovecot({ configure: (conf) => `${conf}\nimap_capability = ${caps.filter(c => !without.includes(c)).join(' ')}\n` })
    const gw = await startGateway({ dovecot })
    const user = await dovecot.createUser('changes-caps')
    await dovecot.deliverMany(user.username, [1, 2, 3].map(n => ({ raw: message(n) })))
    const login = await gw.login(user)
    const send = sender(gw, login.token)
    const s = { gw, dovecot, send, raw: await imapSession(dovecot.ports.imap, user), inbox: (await mailboxIds(send)).get('INBOX')!, capabilities: login.account.capabilities, token: login.token }
    running.push(s)
    return s
  }

  it('no CONDSTORE: state null (REST and GraphQL), capabilities.changes false, changes 410', async () => {
    assert.ok(caps.includes('CONDSTORE') && caps.includes('QRESYNC'), caps.join(' '))
    const s = await setup('CONDSTORE', 'QRESYNC')
    assert.equal(s.capabilities.changes, false)
    const box = (await s.send('GET', `/v1/mailboxes/${s.inbox}`)).json() as { state: unknown }
    assert.equal(box.state, null)
    const gql = await s.gw.app.inject({ method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${s.token}` }, payload: { query: '{ mailboxes { state } }' } })
    assert.deepEqual(new Set(gql.json().data.mailboxes.map((m: { state: unknown }) => m.state)), new Set([null]))
    assert.equal(await s.gw.service.mailboxState(await s.gw.service.authenticate(s.token), s.inbox), null)
    // a state of this mailbox issued while the server still offered CONDSTORE
    const caller = await s.gw.service.authenticate(s.token)
    const earlier = new StateCodec(s.gw.config.secret).modseq({ accountId: caller.account.id, mailbox: 'INBOX' }, { validity: await uidValidityOf(s.raw, 'INBOX'), modseq: '1', uidNext: 1, messages: 0 })
    const got = await changes(s.send, s.inbox, earlier)
    assert.equal(got.status, 410, JSON.stringify(got.body))
    assert.equal(got.body.code, 'cannot-calculate-changes')
  })

  it('CONDSTORE without QRESYNC: appends and keyword changes are computed; after an expunge, 410', async () => {
    const s = await setup('QRESYNC')
    assert.equal(s.capabilities.changes, true)
    const since = await currentState(s.send, s.inbox)
    await ok(s.raw, 'SELECT INBOX')
    await append(s.raw, 'INBOX', message(4))
    await ok(s.raw, 'UID STORE 1 +FLAGS (\\Seen)')
    const got = await changes(s.send, s.inbox, since)
    assert.equal(got.status, 200, JSON.stringify(got.body))
    assert.equal(got.body.created.length, 1)
    assert.equal(got.body.updated.length, 1)
    assert.deepEqual(got.body.destroyed, [])
    const ids = new Map(((await s.send('GET', `/v1/mailboxes/${s.inbox}/messages`)).json() as { items: Array<{ id: string, subject: string }> }).items.map(m => [m.subject, m.id]))
    assert.deepEqual(got.body.created, [ids.get('m4')])
    assert.deepEqual(got.body.updated, [ids.get('m1')])

    const next = got.body.newState
    await ok(s.raw, 'UID STORE 2 +FLAGS.SILENT (\\Deleted)')
    await ok(s.raw, 'UID EXPUNGE 2')
    const gone = await changes(s.send, s.inbox, next)
    assert.equal(gone.status, 410, JSON.stringify(gone.body))
    assert.equal(gone.body.code, 'cannot-calculate-changes')
    // from a state taken after the expunge, changes work again
    const fresh = await s.gw.service.mailboxState(await s.gw.service.authenticate(s.token), s.inbox)
    assert.ok(fresh !== null)
    const quiet = await changes(s.send, s.inbox, fresh)
    assert.equal(quiet.status, 200, JSON.stringify(quiet.body))
    assert.deepEqual([quiet.body.created, quiet.body.updated, quiet.body.destroyed], [[], [], []])
  })
})
