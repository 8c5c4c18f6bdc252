/**
 * Control characters (C0, DEL, U+2028/U+2029) in credentials, filters and
 * mailbox names are refused with 400 naming the field, over REST and GraphQL
 * alike, and nothing is sent to a mail server: session inputs never open a
 * connection (a listener counts them); filters never reach Dovecot's SEARCH
 * (which answered such text with BAD, a 502).
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import type { Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { encodeMailboxId } from '../../src/mail/ids.ts'
import { startGateway, type Gateway } from './gateway.ts'

const UNSAFE = ['\x00', '\r', '\n', 'a\r\nb', '\x01', '\t', '\x1f', '\x7f', '\u2028', '\u2029']

let gw: Gateway
let dialled = 0
const sockets = new Set<Socket>()
const listener = createServer((s) => { dialled++; sockets.add(s); s.on('error', () => {}); s.end('* OK ready\r\n') })
let port = 0
before(async () => {
  gw = await startGateway()
  await new Promise<void>(resolve => listener.listen(0, '127.0.0.1', resolve))
  port = (listener.address() as { port: number }).port
})
after(async () => {
  await gw.close()
  for (const s of sockets) s.destroy()
  await new Promise(resolve => listener.close(resolve))
})

async function gql (query: string, variables: Record<string, unknown>, token?: string): Promise<{ codes: string[], messages: string[] }> {
  const res = await gw.app.inject({
    method: 'POST',
    url: '/graphql',
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    payload: { query, variables },
  })
  const errors = (res.json() as { errors?: Array<{ message: string, extensions?: { code?: string } }> }).errors ?? []
  return { codes: errors.map(e => e.extensions?.code ?? ''), messages: errors.map(e => e.message) }
}

const CREATE = 'mutation ($input: CreateSessionInput!) { createSession(input: $input) { token } }'

describe('session inputs', () => {
  for (const field of ['username', 'password', 'accessToken'] as const) {
    it(`${field}: 400 naming it on REST and GraphQL, and no connection is made`, async () => {
      for (const protocol of ['imap', 'pop3'] as const) {
        for (const bad of UNSAFE) {
          const input: Record<string, unknown> = { protocol, host: '127.0.0.1', port, security: 'none', username: 'user', password: 'pw' }
          if (field === 'accessToken') delete input.password
          input[field] = `x${bad}y`
          const rest = await gw.app.inject({ method: 'POST', url: '/v1/sessions', payload: input })
          assert.equal(rest.statusCode, 400, `${protocol} ${JSON.stringify(bad)}: ${rest.body}`)
          assert.match(rest.json().detail, new RegExp(`^${field} must not contain control characters`))
          const graphql = await gql(CREATE, { input })
          assert.deepEqual(graphql.codes, ['bad-request'], JSON.stringify(bad))
          assert.match(graphql.messages[0]!, new RegExp(`^${field} must not`))
        }
      }
      assert.equal(dialled, 0, 'no mail server was contacted')
    })
  }
})

describe('filters and mailbox names', () => {
  let token = ''
  let inbox = ''
  before(async () => {
    const user = await gw.env.dovecot.createUser('wire-safe')
    const session = await gw.login(user)
    token = session.token
    inbox = encodeMailboxId(session.account.id, 'INBOX')
  })

  it('text=%00 and from=a%0D%0Ab (and every other unsafe character) are 400 naming the filter, not 502', async () => {
    for (const field of ['from', 'to', 'subject', 'text'] as const) {
      for (const bad of UNSAFE) {
        const rest = await gw.get(`/v1/mailboxes/${inbox}/messages?${field}=${encodeURIComponent(`a${bad}b`)}`, token)
        assert.equal(rest.statusCode, 400, `${field} ${JSON.stringify(bad)}: ${rest.body}`)
        assert.match(rest.json().detail, new RegExp(`^filter ${field} must not contain`))
        const graphql = await gql('query ($id: ID!, $f: MessageFilter) { messages(mailboxId: $id, filter: $f) { totalCount } }', { id: inbox, f: { [field]: `a${bad}b` } }, token)
        assert.deepEqual(graphql.codes, ['bad-request'], `${field} ${JSON.stringify(bad)}`)
      }
    }
    assert.equal((await gw.get(`/v1/mailboxes/${inbox}/messages?text=%00`, token)).statusCode, 400)
    assert.equal((await gw.get(`/v1/mailboxes/${inbox}/messages?from=a%0D%0Ab`, token)).statusCode, 400)
    assert.equal((await gw.get(`/v1/mailboxes/${inbox}/messages?text=plain`, token)).statusCode, 200)
  })

  it('a mailbox id whose name holds CR LF is 400, on REST and GraphQL', async () => {
    const account = (await gw.get('/v1/account', token)).json() as { id: string }
    const forged = encodeMailboxId(account.id, 'INBOX\r\nA1 DELETE INBOX')
    const rest = await gw.get(`/v1/mailboxes/${forged}/messages`, token)
    assert.equal(rest.statusCode, 400, rest.body)
    assert.match(rest.json().detail, /mailbox name of mailboxId must not contain/)
    const graphql = await gql('query ($id: ID!) { messages(mailboxId: $id) { totalCount } }', { id: forged }, token)
    assert.deepEqual(graphql.codes, ['bad-request'])
  })
})
