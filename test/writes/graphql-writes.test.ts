/**
 * The GraphQL mutations against the real Dovecot: the same effects and codes
 * as REST, batch results as data, per-id failures in the payload.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startGateway, type Gateway } from '../e2e/gateway.ts'
import type { TestUser } from '../env/dovecot-ops.ts'
import { flagsIn, mail, mailboxIds, messageIds, raw, sender, subjectsIn, type Send } from './helpers.ts'

describe('message write mutations (GraphQL)', { timeout: 120_000 }, () => {
  let gw: Gateway
  let user: TestUser
  let token: string
  let send: Send
  let ids: Map<string, string>
  let boxes: Map<string, string>

  const gql = async (query: string, variables: Record<string, unknown>): Promise<{ data?: any, errors?: Array<{ extensions: Record<string, unknown> }> }> => {
    const res = await gw.app.inject({ method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${token}` }, payload: { query, variables } })
    return res.json()
  }

  before(async () => {
    gw = await startGateway()
    user = await gw.env.dovecot.createUser('gqlw')
    await gw.env.dovecot.deliverMany(user.username, ['a', 'b', 'c'].map(s => ({ raw: mail(s) })))
    token = (await gw.login(user)).token
    send = sender(gw, token)
    boxes = await mailboxIds(send)
    ids = await messageIds(send, boxes.get('INBOX')!)
  })
  after(async () => { await gw?.close() })

  it('updateMessageKeywords sets and clears; a stale ifMatch is precondition-failed with the current keywords', async () => {
    const q = 'mutation ($id: ID!, $set: [String!], $clear: [String!], $ifMatch: String) { updateMessageKeywords(id: $id, set: $set, clear: $clear, ifMatch: $ifMatch) { id keywords modseq dropped } }'
    const first = await gql(q, { id: ids.get('a'), set: ['$seen', '$junk'] })
    assert.deepEqual(first.data?.updateMessageKeywords.keywords, ['$junk', '$seen'], JSON.stringify(first))
    const modseq = first.data.updateMessageKeywords.modseq as string
    const second = await gql(q, { id: ids.get('a'), clear: ['$junk'], ifMatch: `"${modseq}"` })
    assert.deepEqual(second.data?.updateMessageKeywords.keywords, ['$seen'], JSON.stringify(second))
    const stale = await gql(q, { id: ids.get('a'), set: ['$flagged'], ifMatch: `"${modseq}"` })
    assert.equal(stale.errors?.[0]?.extensions.code, 'precondition-failed', JSON.stringify(stale))
    assert.deepEqual(stale.errors?.[0]?.extensions.keywords, ['$seen'])
    const session = await raw(gw, user)
    try {
      const uid = (await subjectsIn(session, 'INBOX')).get('a')!
      assert.deepEqual((await flagsIn(session, 'INBOX')).get(uid), ['\\Seen'])
    } finally {
      session.close()
    }
  })

  it('batchMessages moves and reports a foreign id in the payload; moveMessage and deleteMessage answer like REST', async () => {
    const q = 'mutation ($input: BatchMessagesInput!) { batchMessages(input: $input) { results { id status newId error { code status } } } }'
    const res = await gql(q, { input: { ids: [ids.get('b'), 'AQ-bogus'], action: 'move', mailboxId: boxes.get('Archive') } })
    const results = res.data?.batchMessages.results as Array<{ id: string, status: number, newId: string | null, error: { code: string } | null }>
    assert.equal(results[0]?.status, 200, JSON.stringify(res))
    assert.equal(typeof results[0]?.newId, 'string')
    assert.equal(results[1]?.status, 400)
    assert.equal(results[1]?.error?.code, 'bad-request')
    const del = await gql('mutation ($id: ID!) { deleteMessage(id: $id) { id mailboxId } }', { id: ids.get('c') })
    assert.equal(del.data?.deleteMessage.mailboxId, boxes.get('Trash'), JSON.stringify(del))
    const session = await raw(gw, user)
    try {
      assert.equal((await subjectsIn(session, 'Archive')).has('b'), true)
      assert.equal((await subjectsIn(session, 'Trash')).has('c'), true)
    } finally {
      session.close()
    }
  })
})
