/**
 * Relay-style cursors on every edge, on the real backends: resuming after any
 * edge gives exactly the messages that followed it.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startGateway, type Gateway } from './gateway.ts'

const mail = (n: number): Buffer => Buffer.from(`From: a@example.com\r\nSubject: cursor ${n}\r\nMessage-ID: <c${n}@example.com>\r\n\r\n${n}\r\n`)

describe('GraphQL edge cursors', { timeout: 60_000 }, () => {
  let gw: Gateway
  before(async () => { gw = await startGateway() })
  after(async () => { await gw?.close() })

  for (const protocol of ['imap', 'pop3'] as const) {
    it(`${protocol}: every edge's cursor resumes right after that edge`, async () => {
      const user = await gw.env.dovecot.createUser(`cur-${protocol}`)
      await gw.env.dovecot.deliverMany(user.username, [1, 2, 3, 4, 5].map(n => ({ raw: mail(n) })))
      const { token } = await gw.login(user, { protocol })
      const q = async (query: string): Promise<any> => {
        const res = await gw.app.inject({ method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: { query } })
        const body = res.json()
        assert.equal(body.errors, undefined, res.body)
        return body.data
      }
      const inbox = (await q('{ mailboxes { id role } }')).mailboxes.find((m: { role: string }) => m.role === 'inbox')
      const page = (await q(`{ messages(mailboxId: "${inbox.id}", first: 5) { edges { cursor node { subject } } pageInfo { hasNextPage endCursor } } }`)).messages
      assert.deepEqual(page.edges.map((e: any) => e.node.subject), [5, 4, 3, 2, 1].map(n => `cursor ${n}`))
      assert.equal(page.pageInfo.hasNextPage, false)
      for (let i = 0; i < 4; i++) {
        const cursor = page.edges[i].cursor
        assert.equal(typeof cursor, 'string')
        const next = (await q(`{ messages(mailboxId: "${inbox.id}", first: 10, after: "${cursor}") { edges { node { subject } } } }`)).messages
        assert.deepEqual(next.edges.map((e: any) => e.node.subject), page.edges.slice(i + 1).map((e: any) => e.node.subject))
      }
    })
  }
})
