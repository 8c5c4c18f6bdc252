/**
 * `changes` through both faces, and the gateway's own writes: REST and
 * GraphQL give the same answers and codes for the same state, and every
 * write the gateway answers has already moved the mailbox's state (read right
 * after, with no wait), with the written message in the right list.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startGateway, type Gateway } from '../e2e/gateway.ts'
import type { TestUser } from '../env/dovecot-ops.ts'
import { imapSession, type ImapSession } from '../env/sessions.ts'
import { mail, mailboxIds, messageIds, sender, type Send } from '../writes/helpers.ts'
import { append, changes, currentState, message, ok, stateOf } from './helpers.ts'

describe('changes: REST and GraphQL, and the gateway\'s own writes', { timeout: 120_000 }, () => {
  let gw: Gateway
  let user: TestUser
  let token: string
  let send: Send
  let boxes: Map<string, string>
  let raw: ImapSession

  const gql = async (query: string, variables: Record<string, unknown> = {}): Promise<{ data?: any, errors?: Array<{ extensions: Record<string, unknown> }> }> => {
    const res = await gw.app.inject({ method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${token}` }, payload: { query, variables } })
    return res.json()
  }
  const CHANGES = 'query ($id: ID!, $since: String!, $limit: Int) { changes(mailboxId: $id, since: $since, limit: $limit) { oldState newState hasMoreChanges created updated destroyed } }'

  before(async () => {
    gw = await startGateway()
    user = await gw.env.dovecot.createUser('changes-faces')
    await gw.env.dovecot.deliverMany(user.username, ['a', 'b', 'c', 'd'].map(s => ({ raw: mail(s) })))
    token = (await gw.login(user)).token
    send = sender(gw, token)
    boxes = await mailboxIds(send)
    raw = await imapSession(gw.env.dovecot.ports.imap, user)
  })
  after(async () => {
    raw.close()
    await gw.close()
  })

  it('REST and GraphQL: the same state in the listing, the same changes, the same error codes', async () => {
    const inbox = boxes.get('INBOX')!
    const listed = await gql('{ mailboxes { id state } }')
    const restList = (await send('GET', '/v1/mailboxes')).json() as { items: Array<{ id: string, state: string | null }> }
    assert.deepEqual(listed.data?.mailboxes, restList.items.map(m => ({ id: m.id, state: m.state })))
    const since = await currentState(send, inbox)
    await ok(raw, 'SELECT INBOX')
    await append(raw, 'INBOX', message(1))
    await append(raw, 'INBOX', message(2))
    await ok(raw, 'UID STORE 1 +FLAGS (\\Flagged)')
    for (const limit of [undefined, 1, 2]) {
      const rest = await changes(send, inbox, since, limit)
      assert.equal(rest.status, 200, JSON.stringify(rest.body))
      const graph = await gql(CHANGES, { id: inbox, since, limit })
      assert.deepEqual(graph.data?.changes, rest.body, `limit ${String(limit)}`)
    }
    const forged = await gql(CHANGES, { id: inbox, since: 'forged' })
    assert.equal(forged.errors?.[0]?.extensions.code, 'bad-request')
    assert.equal((await changes(send, inbox, 'forged')).body.code, 'bad-request')
  })

  it('every write answered has moved the state, and changes name what it wrote', async () => {
    const inbox = boxes.get('INBOX')!
    const archive = boxes.get('Archive')!
    const ids = await messageIds(send, inbox)
    const step = async (what: string, write: () => Promise<number>, check: (c: { created: string[], updated: string[], destroyed: string[] }) => void, box = inbox): Promise<void> => {
      const before = await currentState(send, box)
      assert.ok((await write()) < 300, what)
      const after = await stateOf(send, box)
      assert.notEqual(after, before, `${what}: the listed state moved at once`)
      const got = await changes(send, box, before)
      assert.equal(got.status, 200, JSON.stringify(got.body))
      check(got.body)
    }
    await step('PATCH keywords', async () => (await send('PATCH', `/v1/messages/${ids.get('a')!}`, { keywords: { $answered: true } })).statusCode,
      c => assert.deepEqual(c.updated, [ids.get('a')]))
    let appended = ''
    await step('APPEND', async () => {
      const res = await gw.app.inject({ method: 'POST', url: `/v1/mailboxes/${inbox}/messages`, headers: { authorization: `Bearer ${token}`, 'content-type': 'message/rfc822' }, payload: mail('appended') })
      appended = res.json().id
      return res.statusCode
    }, c => assert.deepEqual(c.created, [appended]))
    await step('move out', async () => (await send('POST', `/v1/messages/${ids.get('b')!}/move`, { mailboxId: archive })).statusCode,
      c => assert.deepEqual(c.destroyed, [ids.get('b')]))
    await step('permanent delete', async () => (await send('DELETE', `/v1/messages/${ids.get('c')!}?permanent=true`)).statusCode,
      c => assert.deepEqual(c.destroyed, [ids.get('c')]))
    let copied = ''
    await step('copy in', async () => {
      const res = await send('POST', `/v1/messages/${ids.get('d')!}/copy`, { mailboxId: archive })
      copied = res.json().id
      return res.statusCode
    }, c => assert.deepEqual(c.created, [copied]), archive)
  })
})
