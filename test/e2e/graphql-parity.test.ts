/**
 * GraphQL against the real stack (Dovecot, IMAP and POP3): for pages of
 * messages, each message by id, the account and its mailboxes, GraphQL returns
 * the same value as REST for every shared field; and a page of 20 messages
 * with their text costs one batched backend fetch, not 20.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { readCorpus } from './direct.ts'
import { recordSecret, startGateway, type Gateway } from './gateway.ts'
import { assertSameFields, graphqlAccount, graphqlMailboxes, graphqlMessage, graphqlMessagePage } from '../graphql/parity.ts'

const COUNT = 45

describe('GraphQL ↔ REST parity on real backends', { timeout: 240_000 }, () => {
  let gw: Gateway
  let app: FastifyInstance
  let user: { username: string, password: string }
  const fetches: Partial<Record<'imap' | 'pop3', number[]>> = {}

  before(async () => {
    gw = await startGateway()
    app = gw.app
    // one upstream round per mailbox per getMessages call: count them
    for (const protocol of ['imap', 'pop3'] as const) fetches[protocol] = gw.countCalls(protocol, 'getMessages')
    user = await gw.env.dovecot.createUser('gqlparity')
    recordSecret(user.password)
    const corpus = readCorpus().slice(0, COUNT)
    await gw.env.dovecot.deliverMany(user.username, corpus.map((c, i) => ({ raw: c.raw, flags: i % 3 === 0 ? ['\\Seen'] : [] })))
  })
  after(async () => { await gw?.close() })

  const login = async (protocol: 'imap' | 'pop3'): Promise<string> => (await gw.login(user, { protocol })).token
  const rest = async (url: string, token: string): Promise<any> => {
    const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } })
    assert.equal(res.statusCode, 200, `${url}: ${res.body}`)
    return res.json()
  }

  for (const protocol of ['imap', 'pop3'] as const) {
    it(`${protocol}: pages, messages, account and mailboxes agree field for field`, async () => {
      const token = await login(protocol)
      assertSameFields(await rest('/v1/account', token), await graphqlAccount(app, token), 'account')
      const boxes = await rest('/v1/mailboxes', token)
      assertSameFields(boxes.items, await graphqlMailboxes(app, token), 'mailboxes')
      const inbox = boxes.items.find((m: { path: string }) => m.path === 'INBOX').id as string

      let cursor: string | null = null
      let seen = 0
      do {
        const q: string = cursor === null ? '' : `&cursor=${cursor}`
        const restPage = await rest(`/v1/mailboxes/${inbox}/messages?limit=20${q}`, token)
        const gqlPage = await graphqlMessagePage(app, token, inbox, cursor === null ? { first: 20 } : { first: 20, after: cursor })
        assertSameFields(restPage, gqlPage, `page after ${cursor}`)
        seen += restPage.items.length
        cursor = restPage.nextCursor
      } while (cursor !== null)
      assert.equal(seen, COUNT)

      const first = (await rest(`/v1/mailboxes/${inbox}/messages?limit=10`, token)).items as Array<{ id: string }>
      for (const { id } of first) {
        assertSameFields(await rest(`/v1/messages/${id}`, token), await graphqlMessage(app, token, id), `message ${id}`)
      }
    })

    it(`${protocol}: a page of 20 messages with text is one batched backend fetch`, async () => {
      const token = await login(protocol)
      const inbox = (await rest('/v1/mailboxes', token)).items[0].id as string
      // The second page: the parity test read bodies of the first 10 only, so these are not cached.
      const page1 = await rest(`/v1/mailboxes/${inbox}/messages?limit=20`, token)
      const before = fetches[protocol]!.length
      const res = await app.inject({
        method: 'POST',
        url: '/graphql',
        headers: { authorization: `Bearer ${token}` },
        payload: { query: 'query ($id: ID!, $after: String) { messages(mailboxId: $id, first: 20, after: $after) { edges { node { id text html } } } }', variables: { id: inbox, after: page1.nextCursor } },
      })
      const body = res.json()
      assert.equal(body.errors, undefined, JSON.stringify(body.errors))
      const n = body.data.messages.edges.length
      assert.equal(n, 20)
      const calls = fetches[protocol]!.slice(before)
      assert.deepEqual(calls, [20], 'one backend.getMessages call for the 20 messages')
    })
  }
})
