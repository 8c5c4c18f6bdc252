/**
 * `idempotencyKey` on the GraphQL POST writes other than sendMessage
 * (send-idempotency.test.ts): a retry under the same key is answered from
 * the first and not repeated, checked on Dovecot with raw IMAP sessions —
 * one APPENDed message, one copy, one mailbox.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import type { TestUser } from '../env/dovecot-ops.ts'
import { startGateway, type Gateway } from './gateway.ts'
import { readMailbox } from './mail-wait.ts'

interface GqlAnswer { data: Record<string, unknown> | null, errors?: Array<{ message: string, extensions: { code: string } }> }

describe('GraphQL write mutations with an idempotency key', { timeout: 120_000 }, () => {
  let gw: Gateway
  let user: TestUser
  let token: string
  let inbox: string

  before(async () => {
    gw = await startGateway()
    user = await gw.env.dovecot.createUser('gqlidem')
    token = (await gw.login(user)).token
    const boxes = (await gw.get('/v1/mailboxes', token)).json<{ items: Array<{ id: string, path: string }> }>()
    inbox = boxes.items.find(b => b.path === 'INBOX')!.id
  })
  after(async () => { await gw?.close() })

  const gql = async (query: string, variables: Record<string, unknown>): Promise<GqlAnswer> => (await gw.app.inject({
    method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${token}` }, payload: { query, variables },
  })).json<GqlAnswer>()
  const key = (): string => `gql-${randomBytes(6).toString('hex')}`

  it('appendMessage twice with one key: one message in the mailbox, the same answer', async () => {
    const append = 'mutation($m: ID!, $raw: String!, $key: String) { appendMessage(mailboxId: $m, raw: $raw, idempotencyKey: $key) { id mailboxId } }'
    const raw = `From: a@example.test\r\nTo: b@example.test\r\nSubject: keyed append\r\nMessage-ID: <${key()}@example.test>\r\n\r\nonce\r\n`
    const k = key()
    const first = await gql(append, { m: inbox, raw, key: k })
    assert.equal(first.errors, undefined, JSON.stringify(first))
    assert.deepEqual(await gql(append, { m: inbox, raw, key: k }), first)
    assert.equal((await readMailbox(gw.env.dovecot.ports.imap, user)).length, 1)
    const other = await gql(append, { m: inbox, raw: raw.replace('once', 'twice'), key: k })
    assert.equal(other.errors?.[0]?.extensions.code, 'idempotency-conflict')
    assert.equal((await readMailbox(gw.env.dovecot.ports.imap, user)).length, 1)
  })

  it('createMailbox and copyMessage twice with one key: one mailbox, one copy', async () => {
    const create = 'mutation($name: String!, $key: String) { createMailbox(input: { name: $name }, idempotencyKey: $key) { id path } }'
    const name = `Keyed-${randomBytes(3).toString('hex')}`
    const k = key()
    const made = await gql(create, { name, key: k })
    assert.equal(made.errors, undefined, JSON.stringify(made))
    // without the key the second would be already-exists
    assert.deepEqual(await gql(create, { name, key: k }), made)
    const target = (made.data!.createMailbox as { id: string }).id
    const raw = 'From: a@example.test\r\nSubject: to copy\r\n\r\nx\r\n'
    const placed = await gql('mutation($m: ID!, $raw: String!) { appendMessage(mailboxId: $m, raw: $raw) { id } }', { m: inbox, raw })
    const id = (placed.data!.appendMessage as { id: string }).id
    const copy = 'mutation($id: ID!, $m: ID!, $key: String) { copyMessage(id: $id, mailboxId: $m, idempotencyKey: $key) { id mailboxId } }'
    const ck = key()
    const first = await gql(copy, { id, m: target, key: ck })
    assert.equal(first.errors, undefined, JSON.stringify(first))
    assert.deepEqual(await gql(copy, { id, m: target, key: ck }), first)
    assert.equal((await readMailbox(gw.env.dovecot.ports.imap, user, name)).length, 1)
  })
})
