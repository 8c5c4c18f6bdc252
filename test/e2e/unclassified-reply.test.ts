/**
 * An unclassified refusal from the mail server (a NO or BAD without a response
 * code the gateway knows) never reaches the caller in the server's words: its
 * text may hold server internals. REST and GraphQL answer upstream-unavailable
 * with the gateway's own detail. The server is a scripted fake (Dovecot will
 * not refuse with chosen text on demand), reached through the whole gateway.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { LightMyRequestResponse } from 'fastify'
import { encodeMailboxId } from '../../src/mail/ids.ts'
import { startFakeImap, type FakeImapServer } from '../imap/fake-imap-server.ts'
import { startGateway, type Gateway } from './gateway.ts'

/** What a server might say when something inside it broke. */
const INTERNALS = 'backend mdb01.corp.internal:5432 failed: FATAL password authentication for user "vmail" (/srv/mail/conf/db.ext)'
const WORDS = /mdb01|corp\.internal|5432|vmail|\/srv\/mail|FATAL|password authentication/i

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
    const res = await gw.app.inject({
      method: 'POST',
      url: '/v1/sessions',
      payload: { protocol: 'imap', host: '127.0.0.1', port: server.port, security: 'none', username: 'ann', password: 'fake-server-password' },
    })
    assert.equal(res.statusCode, 201, res.body)
    const body = res.json() as { token: string, account: { id: string } }
    token = body.token
    inbox = encodeMailboxId(body.account.id, 'INBOX')
  })
  after(async () => {
    await gw?.close()
    await server?.close()
  })

  const assertGeneric = (res: LightMyRequestResponse): void => {
    assert.equal(res.statusCode, 502, res.body)
    const problem = res.json() as { code: string, detail: string }
    assert.equal(problem.code, 'upstream-unavailable')
    assert.doesNotMatch(res.body, WORDS)
    assert.ok(problem.detail.length > 0)
  }

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
