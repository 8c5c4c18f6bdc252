/**
 * POP3 writes: delete (and batch delete) is DELE on a session of its own,
 * committed by QUIT, and answered 204 only after the server's +OK to QUIT;
 * every other write is 422. Effects read back with a raw POP3 session; the
 * QUIT that never gets its +OK comes from a scripted fake server.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startGateway, type Gateway } from '../e2e/gateway.ts'
import type { TestUser } from '../env/dovecot-ops.ts'
import { pop3Session } from '../env/sessions.ts'
import { startFakeServer } from '../pop3/fake-server.ts'
import { mail, mailboxIds, messageIds, sender, type Send } from './helpers.ts'

/** UIDLs of the maildrop, read with a raw POP3 session (which then QUITs, deleting nothing). */
async function uidls (gw: Gateway, user: TestUser): Promise<string[]> {
  const { wire, pass } = await pop3Session(gw.env.dovecot.ports.pop3, user, 15_000)
  try {
    assert.match(pass, /^\+OK/)
    const lines = await wire.command('UIDL', (l) => l === '.')
    await wire.command('QUIT', () => true)
    return lines.slice(1, -1).map(l => l.split(' ')[1]!)
  } finally {
    wire.close()
  }
}

describe('POP3 writes', { timeout: 120_000 }, () => {
  let gw: Gateway
  let user: TestUser
  let send: Send
  let ids: Map<string, string>
  let inbox: string

  before(async () => {
    gw = await startGateway()
    user = await gw.env.dovecot.createUser('p3w')
    await gw.env.dovecot.deliverMany(user.username, ['keep', 'drop one', 'drop two', 'drop three'].map(s => ({ raw: mail(s) })))
    send = sender(gw, (await gw.login(user, { protocol: 'pop3', security: 'none' })).token)
    inbox = (await mailboxIds(send)).get('INBOX')!
    ids = await messageIds(send, inbox)
  })
  after(async () => { await gw?.close() })

  it('DELETE answers 204 once QUIT was answered, and the message is gone for a raw POP3 client', async () => {
    const before = await uidls(gw, user)
    assert.equal(before.length, 4)
    const res = await send('DELETE', `/v1/messages/${ids.get('drop one')}`)
    assert.equal(res.statusCode, 204, res.body)
    const after = await uidls(gw, user)
    assert.equal(after.length, 3)
    assert.equal((await send('GET', `/v1/messages/${ids.get('drop one')}`)).statusCode, 404)
    assert.equal((await send('GET', `/v1/messages/${ids.get('keep')}`)).statusCode, 200)
  })

  it('batch delete: all DELEs in one session, one QUIT; an unknown id fails alone', async () => {
    const res = await send('POST', '/v1/messages/batch', { ids: [ids.get('drop two'), ids.get('drop one'), ids.get('drop three')], action: 'delete' })
    assert.equal(res.statusCode, 200, res.body)
    assert.deepEqual((res.json() as { results: Array<{ status: number }> }).results.map(r => r.status), [204, 404, 204])
    assert.equal((await uidls(gw, user)).length, 1)
  })

  it('every other write is 422 unsupported, and nothing is deleted', async () => {
    const keep = ids.get('keep')!
    const answers = await Promise.all([
      send('PATCH', `/v1/messages/${keep}`, { keywords: { $seen: true } }),
      send('POST', `/v1/messages/${keep}/move`, { mailboxId: inbox }),
      send('POST', `/v1/messages/${keep}/copy`, { mailboxId: inbox }),
      send('POST', '/v1/messages/batch', { ids: [keep], action: 'update', keywords: { $seen: true } }),
    ])
    assert.deepEqual(answers.map(a => a.statusCode), [422, 422, 422, 422], answers.map(a => a.body).join('\n'))
    assert.equal((await uidls(gw, user)).length, 1)
  })

  it('a QUIT the server never answers is not a delete: 502, and the message is still there', async (t) => {
    const server = await startFakeServer({
      messages: [{ uid: 'u-1', raw: mail('fragile') }],
      onCommand: (cmd, _args, s) => { if (cmd !== 'QUIT' || s.deleted.size === 0) return false; s.socket.destroy(); return true },
    })
    t.after(() => server.close())
    const login = await gw.app.inject({ method: 'POST', url: '/v1/sessions', payload: { protocol: 'pop3', host: '127.0.0.1', port: server.port, security: 'none', username: 'alice', password: 'secret' } })
    assert.equal(login.statusCode, 201, login.body)
    const fake = sender(gw, (login.json() as { token: string }).token)
    const id = [...(await messageIds(fake, (await mailboxIds(fake)).get('INBOX')!)).values()][0]!
    const res = await fake('DELETE', `/v1/messages/${id}`)
    assert.equal(res.statusCode, 502, res.body)
    assert.ok(server.commands.includes('DELE 1'))
    assert.deepEqual(server.messages.map(m => m.uid), ['u-1'], 'no UPDATE state: nothing removed')
  })
})
