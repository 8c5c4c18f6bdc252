/**
 * An unclassified refusal from the mail server (an IMAP NO or BAD, a POP3 -ERR,
 * without a response code the gateway knows) never reaches the caller in the
 * server's words: its text may hold server internals. REST and GraphQL answer upstream-unavailable
 * with the gateway's own detail. The server is a scripted fake (Dovecot will
 * not refuse with chosen text on demand), reached through the whole gateway.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { LightMyRequestResponse } from 'fastify'
import { encodeMailboxId, encodeMessageId } from '../../src/mail/ids.ts'
import { startFakeImap, type FakeImapServer } from '../imap/fake-imap-server.ts'
import { startFakeServer, type FakeServer } from '../pop3/fake-server.ts'
import { startGateway, type Gateway } from './gateway.ts'

/** What a server might say when something inside it broke. */
const INTERNALS = 'backend mdb01.corp.internal:5432 failed: FATAL password authentication for user "vmail" (/srv/mail/conf/db.ext)'
const WORDS = /mdb01|corp\.internal|5432|vmail|\/srv\/mail|FATAL|password authentication/i

function assertGeneric (res: LightMyRequestResponse): void {
  assert.equal(res.statusCode, 502, res.body)
  const problem = res.json() as { code: string, detail: string }
  assert.equal(problem.code, 'upstream-unavailable')
  assert.doesNotMatch(res.body, WORDS)
  assert.ok(problem.detail.length > 0)
}

describe('an unclassified server refusal', { timeout: 60_000 }, () => {
  let gw: Gateway
  let server: FakeImapServer
  let token: string
  let inbox: string

  before(async () => {
    server = await startFakeImap((tag, verb, line, socket) => {
      // the mailbox exists (imapflow asks after a refused SELECT/EXAMINE), but opening it fails
      if (verb === 'LIST' && /^LIST "" "?INBOX"?$/i.test(line)) {
        socket.write(`* LIST () "/" INBOX\r\n${tag} OK done\r\n`)
        return true
      }
      if (verb === 'EXAMINE' || verb === 'SELECT') {
        socket.write(`${tag} NO ${INTERNALS}\r\n`)
        return true
      }
      if (verb === 'LIST' || verb === 'LSUB' || verb === 'STATUS') {
        socket.write(`${tag} BAD ${INTERNALS}\r\n`)
        return true
      }
      return false
    })
    gw = await startGateway()
    const body = await gw.login({ username: 'ann', password: 'imap-fake-password' }, { security: 'none', port: server.port })
    token = body.token
    inbox = encodeMailboxId(body.account.id, 'INBOX')
  })
  after(async () => {
    await gw?.close()
    await server?.close()
  })

  it('REST: a NO to EXAMINE and a BAD to LIST give the gateway\'s detail, not the server\'s words', async () => {
    assertGeneric(await gw.get(`/v1/mailboxes/${inbox}/messages`, token))
    assertGeneric(await gw.get('/v1/mailboxes', token))
    assert.ok(server.commands.some(c => c.startsWith('EXAMINE')), `the refusal was the server's: ${server.commands.join(' | ')}`)
  })

  it('GraphQL: the same refusals, in errors[] with extensions.code', async () => {
    for (const query of [`{ messages(mailboxId: "${inbox}", first: 5) { totalCount } }`, '{ mailboxes { name } }']) {
      const res = await gw.app.inject({ method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${token}` }, payload: { query } })
      const body = res.json() as { errors?: Array<{ message: string, extensions?: { code?: string } }> }
      assert.deepEqual(body.errors?.map(e => e.extensions?.code), ['upstream-unavailable'], res.body)
      assert.doesNotMatch(res.body, WORDS)
    }
  })
})

const POP3_USERS = { alice: 'pop3-fake-password' }

describe('an unclassified POP3 refusal', { timeout: 60_000 }, () => {
  let gw: Gateway
  let server: FakeServer
  let refusingGreeting: FakeServer

  before(async () => {
    server = await startFakeServer({
      users: POP3_USERS,
      messages: [{ uid: 'uid-1', raw: Buffer.from('Subject: one\r\n\r\nbody\r\n') }],
      onCommand: (cmd, _args, s) => {
        if (cmd === 'TOP') s.write(`-ERR ${INTERNALS}\r\n`)
        else if (cmd === 'RETR') s.write(`-ERR [SYS/TEMP] ${INTERNALS}\r\n`)
        else return false
        return true
      },
    })
    refusingGreeting = await startFakeServer({ users: POP3_USERS, greeting: `-ERR ${INTERNALS}` })
    gw = await startGateway()
  })
  after(async () => {
    await gw?.close()
    await Promise.all([server?.close(), refusingGreeting?.close()])
  })

  const login = async (port: number) => await gw.login({ username: 'alice', password: POP3_USERS.alice }, { protocol: 'pop3', security: 'none', port })

  it('REST and GraphQL: a -ERR to TOP, a [SYS/TEMP] to RETR and a refusing greeting give the gateway\'s detail', async () => {
    const { token, account } = await login(server.port)
    const inbox = encodeMailboxId(account.id, 'INBOX')
    const message = encodeMessageId(account.id, { mailbox: 'INBOX', validity: null, key: 'uid-1' })
    assertGeneric(await gw.get(`/v1/mailboxes/${inbox}/messages`, token))
    assertGeneric(await gw.get(`/v1/messages/${message}`, token))
    assertGeneric(await gw.get(`/v1/messages/${message}/raw`, token))
    for (const query of [`{ messages(mailboxId: "${inbox}", first: 5) { totalCount } }`, `{ message(id: "${message}") { subject } }`]) {
      const gql = await gw.app.inject({ method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${token}` }, payload: { query } })
      assert.deepEqual((gql.json() as { errors?: Array<{ extensions?: { code?: string } }> }).errors?.map(e => e.extensions?.code), ['upstream-unavailable'], gql.body)
      assert.doesNotMatch(gql.body, WORDS)
    }
    assert.ok(server.commands.includes('TOP 1 0') && server.commands.includes('RETR 1'), server.commands.join(','))
    const refused = await login(refusingGreeting.port).then(() => assert.fail('logged in'), (err: { response?: LightMyRequestResponse }) => err.response)
    assert.ok(refused !== undefined)
    assertGeneric(refused)
  })
})
