/**
 * Date filters at the edges of what IMAP SEARCH can say, on the real Dovecot:
 * a "no bound" sentinel far in the future, a bound centuries back, a two-digit
 * year (0099 is not 1999) — each answers exactly what it means, through REST
 * and GraphQL alike, never a refused search.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startGateway, type Gateway } from './gateway.ts'

const mail = (subject: string): Buffer => Buffer.from(`From: a@example.com\r\nSubject: ${subject}\r\n\r\n${subject}\r\n`)

/**
 * [filter, subjects expected]: one message received in 1995, one in 2020.
 * (Dovecot compares an INTERNALDATE before 1970 as if it were unsigned, so no
 * message here is older than that.)
 */
const CASES: Array<[Record<string, string>, string[]]> = [
  [{ before: '9999-12-31' }, ['new', 'old']],
  [{ since: '9999-12-31' }, []],
  [{ since: '1753-01-01' }, ['new', 'old']],
  [{ since: '1890-01-01', before: '9999-12-31T23:59:59Z' }, ['new', 'old']],
  [{ since: '1960-01-01' }, ['new', 'old']],
  [{ before: '1960-01-01' }, []],
  [{ before: '0099-12-31' }, []],
  [{ since: '0099-12-31' }, ['new', 'old']],
  [{ since: '0000-02-29' }, ['new', 'old']],
  [{ since: '2000-01-01', before: '2100-01-01' }, ['new']],
]

describe('IMAP date filters beyond what SEARCH can say', { timeout: 60_000 }, () => {
  let gw: Gateway
  let token: string
  let inbox: string
  before(async () => {
    gw = await startGateway()
    const user = await gw.env.dovecot.createUser('dates')
    await gw.env.dovecot.deliverMany(user.username, [
      { raw: mail('old'), date: new Date('1995-06-01T12:00:00Z') },
      { raw: mail('new'), date: new Date('2020-01-01T12:00:00Z') },
    ]);
    ({ token } = await gw.login(user))
    inbox = (await gw.get('/v1/mailboxes', token)).json().items.find((m: { role: string }) => m.role === 'inbox').id
  })
  after(async () => { await gw?.close() })

  it('REST: exact answers, no 502', async () => {
    for (const [filter, expected] of CASES) {
      const res = await gw.get(`/v1/mailboxes/${inbox}/messages?${new URLSearchParams(filter).toString()}`, token)
      assert.equal(res.statusCode, 200, `${JSON.stringify(filter)}: ${res.body}`)
      assert.deepEqual(res.json().items.map((m: { subject: string }) => m.subject).sort(), expected, JSON.stringify(filter))
      assert.equal(res.json().total, expected.length)
    }
  })

  it('GraphQL: the same answers', async () => {
    for (const [filter, expected] of CASES) {
      const res = await gw.app.inject({
        method: 'POST',
        url: '/graphql',
        headers: { authorization: `Bearer ${token}` },
        payload: { query: 'query($m: ID!, $f: MessageFilter) { messages(mailboxId: $m, filter: $f) { totalCount edges { node { subject } } } }', variables: { m: inbox, f: filter } },
      })
      const body = res.json()
      assert.equal(body.errors, undefined, `${JSON.stringify(filter)}: ${res.body}`)
      assert.deepEqual(body.data.messages.edges.map((e: { node: { subject: string } }) => e.node.subject).sort(), expected, JSON.stringify(filter))
      assert.equal(body.data.messages.totalCount, expected.length)
    }
  })
})
