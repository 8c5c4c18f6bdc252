/**
 * GraphQL `sendMessage(idempotencyKey:)` keeps REST's Idempotency-Key
 * semantics over the same records, against Postfix and Dovecot read with raw
 * IMAP sessions: the same key and input twice → one message in the
 * recipient's INBOX and one Sent copy, the second answer equal to the first;
 * the same key with another input → idempotency-conflict (422), nothing sent;
 * two at once → one sends, the other is idempotency-conflict (409).
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { simpleParser } from 'mailparser'
import type { TestUser } from '../env/dovecot-ops.ts'
import { startGateway, type Gateway } from './gateway.ts'
import { readMailbox, waitForMail } from './mail-wait.ts'

const addr = (u: TestUser): string => `${u.username}@example.test`
const MUTATION = 'mutation($input: SendMessageInput!, $key: String) { sendMessage(input: $input, idempotencyKey: $key) { messageId accepted rejected { email reply } sentId } }'

interface GqlAnswer { data: { sendMessage: unknown } | null, errors?: Array<{ message: string, extensions: { code: string } }> }

describe('GraphQL sendMessage with an idempotency key, through Postfix', { timeout: 180_000 }, () => {
  let gw: Gateway
  let alice: TestUser
  let token: string
  let imap: number

  before(async () => {
    gw = await startGateway()
    imap = gw.env.dovecot.ports.imap
    alice = await gw.env.dovecot.createUser('idemalice')
    token = (await gw.login(alice, { smtp: gw.smtp() })).token
  })
  after(async () => { await gw?.close() })

  const gql = async (variables: Record<string, unknown>): Promise<GqlAnswer> => (await gw.app.inject({
    method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${token}` }, payload: { query: MUTATION, variables },
  })).json<GqlAnswer>()
  const subjectsOf = async (user: TestUser, mailbox = 'INBOX'): Promise<string[]> =>
    await Promise.all((await readMailbox(imap, user, mailbox)).map(async m => (await simpleParser(m.raw)).subject ?? ''))

  it('the same key and input twice: one message delivered, one Sent copy, the same answer', async () => {
    const bob = await gw.env.dovecot.createUser('idembob')
    const key = `gql-${randomBytes(6).toString('hex')}`
    const input = { from: { email: addr(alice) }, to: [{ email: addr(bob) }], subject: `keyed ${key}`, text: 'once' }
    const first = await gql({ input, key })
    assert.equal(first.errors, undefined, JSON.stringify(first))
    const second = await gql({ input, key })
    assert.deepEqual(second, first)
    // the Sent copy is APPENDed before the answer: a second send would have left a second one
    assert.deepEqual((await subjectsOf(alice, 'Sent')).filter(s => s === input.subject), [input.subject])
    // a marker sent after both: once it is in the INBOX, a second keyed copy would have been submitted before it
    const marker = await gql({ input: { ...input, subject: `marker ${key}` } })
    assert.equal(marker.errors, undefined, JSON.stringify(marker))
    await waitForMail(imap, bob, 2)
    assert.deepEqual((await subjectsOf(bob)).sort(), [`keyed ${key}`, `marker ${key}`])
  })

  it('the same key with another input: idempotency-conflict (422) and nothing sent', async () => {
    const bob = await gw.env.dovecot.createUser('idembob')
    const key = `gql-${randomBytes(6).toString('hex')}`
    const input = { from: { email: addr(alice) }, to: [{ email: addr(bob) }], subject: `first ${key}`, text: 'a' }
    assert.equal((await gql({ input, key })).errors, undefined)
    const res = await gw.app.inject({
      method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${token}` }, payload: { query: MUTATION, variables: { input: { ...input, subject: `other ${key}` }, key } },
    })
    const other = res.json<GqlAnswer>()
    assert.equal(other.errors?.[0]?.extensions.code, 'idempotency-conflict', res.body)
    assert.equal(res.statusCode, 422, res.body)
    assert.deepEqual((await subjectsOf(alice, 'Sent')).filter(s => s.endsWith(key)), [`first ${key}`])
  })

  it('two at once with one key: one is sent, the other is idempotency-conflict (409)', async () => {
    const bob = await gw.env.dovecot.createUser('idembob')
    const key = `gql-${randomBytes(6).toString('hex')}`
    const input = { from: { email: addr(alice) }, to: [{ email: addr(bob) }], subject: `race ${key}`, text: 'r' }
    const answers = await Promise.all([gql({ input, key }), gql({ input, key })])
    const codes = answers.map(a => a.errors?.[0]?.extensions.code ?? 'ok').sort()
    assert.deepEqual(codes, ['idempotency-conflict', 'ok'], JSON.stringify(answers))
    assert.match(answers.find(a => a.errors !== undefined)!.errors![0]!.message, /still being processed/)
    assert.deepEqual((await subjectsOf(alice, 'Sent')).filter(s => s === input.subject), [input.subject])
  })
})
