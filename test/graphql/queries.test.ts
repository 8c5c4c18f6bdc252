import { test } from 'node:test'
import assert from 'node:assert/strict'
import { build, codes, gql, type GqlResponse } from './helpers.ts'
import { IMAP_TOKEN, imapAccount, mailboxId, POP3_TOKEN, pop3Account } from './fake-data.ts'

const CAPS = '{ mailboxes keywords search move idle condstore qresync specialUse appendLimit top uidl pipelining stls sasl expire loginDelay }'

test('account: REST fields and typed capabilities; the other protocol\'s keys are null', async (t) => {
  const { app } = await build(t)
  const imap = await gql(app, `{ account { id protocol host port username capabilities ${CAPS} } }`, { token: IMAP_TOKEN })
  const { capabilities, ...rest } = imap.data?.account
  assert.deepEqual(rest, { id: imapAccount.id, protocol: 'imap', host: 'imap.example.com', port: 993, username: 'alice' })
  assert.deepEqual(capabilities, {
    mailboxes: true,
    keywords: true,
    search: true,
    move: true,
    idle: true,
    condstore: true,
    qresync: false,
    specialUse: true,
    appendLimit: 35651584,
    top: null,
    uidl: null,
    pipelining: null,
    stls: null,
    sasl: null,
    expire: null,
    loginDelay: null,
  })
  const pop3 = await gql(app, `{ account { protocol capabilities ${CAPS} } }`, { token: POP3_TOKEN })
  assert.deepEqual(pop3.data?.account.capabilities, {
    ...Object.fromEntries(Object.keys(capabilities).map(k => [k, null])),
    ...pop3Account.capabilities,
  })
})

test('mailboxes and mailbox(id) mirror the service, roles lowercase', async (t) => {
  const { app, fake } = await build(t)
  const fields = 'id name path parentId role totalEmails unreadEmails isSubscribed state'
  const res = await gql(app, `{ mailboxes { ${fields} } }`, { token: IMAP_TOKEN })
  assert.deepEqual(res.data?.mailboxes, fake.data(IMAP_TOKEN).mailboxes)
  assert.deepEqual(res.data?.mailboxes.map((m: { role: string | null }) => m.role), ['inbox', 'sent', null])
  const sent = fake.data(IMAP_TOKEN).mailboxes[1]
  const one = await gql(app, `query ($id: ID!) { mailbox(id: $id) { ${fields} } }`, { token: IMAP_TOKEN, variables: { id: sent?.id } })
  assert.deepEqual(one.data?.mailbox, sent)
  const pop = await gql(app, '{ mailboxes { name path role unreadEmails } }', { token: POP3_TOKEN })
  assert.deepEqual(pop.data?.mailboxes, [{ name: 'INBOX', path: 'INBOX', role: 'inbox', unreadEmails: null }])
})

const PAGE = `query ($id: ID!, $first: Int, $after: String, $filter: MessageFilter) {
  messages(mailboxId: $id, first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id subject } }
  }
}`

test('messages: pages with the service\'s cursors until the end, newest first, nothing skipped or repeated', async (t) => {
  const { app, fake } = await build(t)
  const inbox = mailboxId(imapAccount, 'INBOX')
  const expected = fake.data(IMAP_TOKEN).messages.get(inbox)?.map(m => m.id)
  const seen: string[] = []
  let after: string | null = null
  let pages = 0
  do {
    const res: GqlResponse = await gql(app, PAGE, { token: IMAP_TOKEN, variables: { id: inbox, first: 20, after } })
    assert.equal(res.errors, undefined)
    const conn = res.data?.messages
    assert.equal(conn.totalCount, 45)
    const edges = conn.edges as Array<{ cursor: string | null, node: { id: string } }>
    seen.push(...edges.map(e => e.node.id))
    // Page cursors: only the last edge carries one, equal to endCursor.
    assert.deepEqual(edges.map(e => e.cursor), edges.map((_, i) => i === edges.length - 1 ? conn.pageInfo.endCursor : null))
    assert.equal(conn.pageInfo.hasNextPage, conn.pageInfo.endCursor !== null)
    after = conn.pageInfo.endCursor
    pages++
  } while (after !== null && pages < 10)
  assert.equal(pages, 3)
  assert.deepEqual(seen, expected)
  const first = fake.calls.find(c => c.method === 'listMessages')
  assert.deepEqual(first?.args, [inbox, { limit: 20, filter: {} }])
})

test('messages: default page size 50; filters pass through with dates parsed', async (t) => {
  const { app, fake } = await build(t)
  const inbox = mailboxId(imapAccount, 'INBOX')
  const all = await gql(app, PAGE, { token: IMAP_TOKEN, variables: { id: inbox } })
  assert.equal(all.data?.messages.edges.length, 45)
  assert.deepEqual(fake.calls.at(-1)?.args, [inbox, { limit: 50, filter: {} }])
  const filter = { unread: true, subject: 'Subject', since: '2024-08-10' }
  const res = await gql(app, PAGE, { token: IMAP_TOKEN, variables: { id: inbox, filter } })
  assert.equal(res.errors, undefined)
  assert.deepEqual(fake.calls.at(-1)?.args, [inbox, { limit: 50, filter: { unread: true, subject: 'Subject', since: new Date('2024-08-10') } }])
  const unreadIds = fake.data(IMAP_TOKEN).messages.get(inbox)
    ?.filter(m => !(m.keywords ?? []).includes('$seen') && (m.subject ?? '').includes('Subject') && m.receivedAt !== null && m.receivedAt >= '2024-08-10')
    .map(m => m.id)
  assert.deepEqual(res.data?.messages.edges.map((e: { node: { id: string } }) => e.node.id), unreadIds)
  for (const bad of [{ since: 'yesterday' }, { before: '2024-13-45' }, { subject: '' }, { since: '2024-02-30' }, { since: '2024-08-01T12:00Z' }]) {
    assert.deepEqual(codes(await gql(app, PAGE, { token: IMAP_TOKEN, variables: { id: inbox, filter: bad } })), ['bad-request'], JSON.stringify(bad))
  }
})

test('messages: POP3 filters → unsupported; bad page size and cursor → bad-request', async (t) => {
  const { app } = await build(t)
  const pop = mailboxId(pop3Account, 'INBOX')
  assert.deepEqual(codes(await gql(app, PAGE, { token: POP3_TOKEN, variables: { id: pop, filter: { unread: true } } })), ['unsupported'])
  assert.deepEqual(codes(await gql(app, PAGE, { token: POP3_TOKEN, variables: { id: pop, first: 0 } })), ['bad-request'])
  assert.deepEqual(codes(await gql(app, PAGE, { token: POP3_TOKEN, variables: { id: pop, first: 201 } })), ['bad-request'])
  assert.deepEqual(codes(await gql(app, PAGE, { token: POP3_TOKEN, variables: { id: pop, after: 'bm9wZQ' } })), ['bad-request'])
})

test('Mailbox.messages nests a page under each mailbox', async (t) => {
  const { app, fake } = await build(t)
  const res = await gql(app, '{ mailboxes { path messages(first: 2) { totalCount edges { node { mailboxId } } } } }', { token: IMAP_TOKEN })
  assert.equal(res.errors, undefined)
  const boxes = fake.data(IMAP_TOKEN).mailboxes
  assert.deepEqual(res.data?.mailboxes, boxes.map(b => ({
    path: b.path,
    messages: { totalCount: b.totalEmails, edges: Array(Math.min(2, b.totalEmails)).fill({ node: { mailboxId: b.id } }) },
  })))
})

test('unknown ids → not-found (never internal); malformed ids → bad-request', async (t) => {
  const { app } = await build(t)
  const unknown = Buffer.from('msg:nope').toString('base64url')
  for (const [query, id, code] of [
    ['query ($id: ID!) { mailbox(id: $id) { id } }', unknown, 'not-found'],
    ['query ($id: ID!) { message(id: $id) { id subject } }', unknown, 'not-found'],
    ['query ($id: ID!) { messages(mailboxId: $id) { totalCount } }', unknown, 'not-found'],
    ['query ($id: ID!) { mailbox(id: $id) { messages { totalCount } } }', unknown, 'not-found'],
    ['query ($id: ID!) { message(id: $id) { id } }', 'not/an/id', 'bad-request'],
  ] as const) {
    const res = await gql(app, query, { token: IMAP_TOKEN, variables: { id } })
    assert.deepEqual(codes(res), [code], query)
  }
  // An id from another account is unknown here.
  const pop = await gql(app, 'query ($id: ID!) { mailbox(id: $id) { id } }', { token: POP3_TOKEN, variables: { id: mailboxId(imapAccount, 'INBOX') } })
  assert.deepEqual(codes(pop), ['not-found'])
})

test('message(id) returns every REST Message field', async (t) => {
  const { app, fake } = await build(t)
  const m = fake.data(IMAP_TOKEN).messages.get(mailboxId(imapAccount, 'INBOX'))?.[0]
  assert.ok(m)
  const res = await gql(app, `query ($id: ID!) { message(id: $id) {
    id mailboxId protocol messageId subject from { name email } to { name email } cc { name email }
    sentAt receivedAt size keywords modseq hasAttachment sender { name email } bcc { name email } replyTo { name email }
    inReplyTo references preview text html textTruncated htmlTruncated
    attachments { id filename contentType size disposition contentId url } headers { name value }
  } }`, { token: IMAP_TOKEN, variables: { id: m.id } })
  assert.equal(res.errors, undefined)
  assert.deepEqual(res.data?.message, m)
})
