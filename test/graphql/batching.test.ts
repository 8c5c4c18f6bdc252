import { test } from 'node:test'
import assert from 'node:assert/strict'
import { GatewayError } from '../../src/mail/errors.ts'
import { build, codes, gql } from './helpers.ts'
import { IMAP_TOKEN, imapAccount, mailboxId, POP3_TOKEN, pop3Account } from './fake-data.ts'

const INBOX = mailboxId(imapAccount, 'INBOX')
const page = (fields: string): string =>
  `query ($id: ID!) { messages(mailboxId: $id, first: 20) { edges { node { id ${fields} } } } }`

test('a page of 20 messages with text costs ONE getMessages call with the 20 ids', async (t) => {
  const { app, fake } = await build(t)
  const res = await gql(app, page('text'), { token: IMAP_TOKEN, variables: { id: INBOX } })
  assert.equal(res.errors, undefined)
  const nodes = res.data?.messages.edges.map((e: { node: unknown }) => e.node)
  const expected = fake.data(IMAP_TOKEN).messages.get(INBOX)?.slice(0, 20).map(m => ({ id: m.id, text: m.text }))
  assert.deepEqual(nodes, expected)
  const calls = fake.calls.filter(c => c.method === 'getMessages')
  assert.equal(calls.length, 1)
  assert.deepEqual(calls[0]?.args[0], expected?.map(m => m.id))
  assert.equal(fake.count('getMessage'), 0)
})

test('every body field at once is still one call; summary fields alone cost none', async (t) => {
  const { app, fake } = await build(t)
  const all = 'sender { email } bcc { email } replyTo { email } inReplyTo references preview text html attachments { id url } headers { name }'
  const res = await gql(app, page(all), { token: POP3_TOKEN, variables: { id: mailboxId(pop3Account, 'INBOX') } })
  assert.equal(res.errors, undefined)
  assert.equal(res.data?.messages.edges.length, 20)
  assert.equal(fake.count('getMessages'), 1)
  const summary = await gql(app, page('subject from { email } keywords hasAttachment size'), { token: POP3_TOKEN, variables: { id: mailboxId(pop3Account, 'INBOX') } })
  assert.equal(summary.errors, undefined)
  assert.equal(fake.count('getMessages'), 1)
})

test('nested pages: one batched fetch per mailbox page, not per message', async (t) => {
  const { app, fake } = await build(t)
  const res = await gql(app, '{ mailboxes { messages(first: 5) { edges { node { text html } } } } }', { token: IMAP_TOKEN })
  assert.equal(res.errors, undefined)
  const batches = fake.calls.filter(c => c.method === 'getMessages').map(c => (c.args[0] as string[]).length)
  const withMail = fake.data(IMAP_TOKEN).mailboxes.filter(b => b.totalEmails > 0).length
  assert.ok(batches.length >= 1 && batches.length <= withMail, `batches: ${JSON.stringify(batches)}`)
  assert.equal(batches.reduce((a, b) => a + b, 0), 5 + 3 + 2)
})

test('several message(id) lookups in one request share one fetch; repeats are fetched once', async (t) => {
  const { app, fake } = await build(t)
  const [a, b] = fake.data(IMAP_TOKEN).messages.get(INBOX) ?? []
  assert.ok(a && b)
  const res = await gql(app, `query ($a: ID!, $b: ID!) {
    one: message(id: $a) { subject text } two: message(id: $b) { subject html } again: message(id: $a) { preview }
  }`, { token: IMAP_TOKEN, variables: { a: a.id, b: b.id } })
  assert.equal(res.errors, undefined)
  assert.deepEqual(res.data, {
    one: { subject: a.subject, text: a.text }, two: { subject: b.subject, html: b.html }, again: { preview: a.preview },
  })
  const calls = fake.calls.filter(c => c.method === 'getMessages')
  assert.equal(calls.length, 1)
  assert.deepEqual(calls[0]?.args[0], [a.id, b.id])
})

test('one message failing in the batch fails only its own fields, with its code', async (t) => {
  const { app, fake } = await build(t)
  const list = fake.data(IMAP_TOKEN).messages.get(INBOX) ?? []
  const broken = list[3]
  assert.ok(broken)
  fake.itemErrors.set(broken.id, new GatewayError('stale-id', 'the mailbox changed UIDVALIDITY'))
  const res = await gql(app, page('text'), { token: IMAP_TOKEN, variables: { id: INBOX } })
  assert.equal(res.status, 200)
  assert.deepEqual(codes(res), ['stale-id'])
  assert.deepEqual(res.errors?.[0]?.path, ['messages', 'edges', 3, 'node', 'text'])
  const texts = res.data?.messages.edges.map((e: { node: { text: string | null } }) => e.node.text)
  assert.deepEqual(texts, list.slice(0, 20).map((m, i) => i === 3 ? null : m.text))
})

test('the whole batch failing reports the service\'s code on every field asked', async (t) => {
  const { app, fake } = await build(t)
  fake.failWith('getMessages', new GatewayError('upstream-timeout'))
  const res = await gql(app, page('text'), { token: IMAP_TOKEN, variables: { id: INBOX } })
  assert.equal(res.errors?.length, 20)
  assert.ok(codes(res).every(c => c === 'upstream-timeout'))
  assert.equal(fake.count('getMessages'), 1)
})
