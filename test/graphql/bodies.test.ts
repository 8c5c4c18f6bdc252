/**
 * Message bodies over GraphQL: maxBodyBytes and the truncation flags (as REST's
 * query parameter), body bytes in the cost, and what one response and all of
 * them together may carry.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RESPONSE_BODY_JSON_BYTES } from '../../src/graphql/body-allowance.ts'
import { MAX_RESPONSE_BODY_BYTES } from '../../src/mail/body-view.ts'
import { ByteBudget } from '../../src/util/byte-budget.ts'
import { build, codes, gql, type Built } from './helpers.ts'
import { IMAP_TOKEN, imapAccount, mailboxId } from './fake-data.ts'

const INBOX = mailboxId(imapAccount, 'INBOX')
const BIG = '\x01'.repeat(MAX_RESPONSE_BODY_BYTES) // 12 MiB of JSON

/** The first INBOX message of the fake account, with the given bodies; its id. */
function seed (fake: Built['fake'], text: string, html: string): string {
  const m = fake.data(IMAP_TOKEN).messages.get(INBOX)?.[0]
  assert.ok(m)
  Object.assign(m, { text, html })
  return m.id
}

const aliases = (n: number, args: string): string =>
  `query ($id: ID!) { ${Array.from({ length: n }, (_, i) => `m${i}: message(id: $id${args}) { text textTruncated html htmlTruncated }`).join(' ')} }`

test('maxBodyBytes cuts text and html and says so; the default is 256 KiB', async (t) => {
  const { app, fake } = await build(t)
  const id = seed(fake, 'x'.repeat(300 * 1024), '<p>short</p>')
  const res = await gql(app, 'query ($id: ID!) { a: message(id: $id, maxBodyBytes: 10) { text textTruncated html htmlTruncated } b: message(id: $id) { text textTruncated htmlTruncated } }', { token: IMAP_TOKEN, variables: { id } })
  assert.equal(res.errors, undefined, res.raw.slice(0, 500))
  assert.deepEqual(res.data?.a, { text: 'x'.repeat(10), textTruncated: true, html: '<p>short', htmlTruncated: true })
  assert.equal(res.data?.b.text.length, 256 * 1024)
  assert.equal(res.data?.b.textTruncated, true)
  assert.equal(res.data?.b.htmlTruncated, false)
  for (const bad of [0, MAX_RESPONSE_BODY_BYTES + 1]) {
    const refused = await gql(app, `{ message(id: "${id}", maxBodyBytes: ${bad}) { text } }`, { token: IMAP_TOKEN })
    assert.deepEqual(codes(refused), ['bad-request'], refused.raw)
  }
  const page = await gql(app, `{ messages(mailboxId: "${INBOX}", first: 1, maxBodyBytes: 5) { edges { node { text textTruncated } } } }`, { token: IMAP_TOKEN })
  assert.deepEqual(page.data?.messages.edges[0].node, { text: 'x'.repeat(5), textTruncated: true })
})

test('30 aliases of a message of control characters: one response carries at most its allowance of body JSON', async (t) => {
  const { app, fake } = await build(t)
  const id = seed(fake, BIG, BIG)
  const res = await gql(app, aliases(30, ''), { token: IMAP_TOKEN, variables: { id } })
  assert.equal(res.errors, undefined)
  const values = Object.values(res.data ?? {}) as Array<{ text: string, textTruncated: boolean, html: string, htmlTruncated: boolean }>
  assert.equal(values.length, 30)
  const bodyJson = values.reduce((n, v) => n + Buffer.byteLength(JSON.stringify(v.text)) + Buffer.byteLength(JSON.stringify(v.html)), 0)
  // the allowance, plus the quotes of the values it left empty
  assert.ok(bodyJson <= RESPONSE_BODY_JSON_BYTES + 2 * 60, `${bodyJson} bytes of body JSON`)
  assert.ok(values.every(v => v.textTruncated && v.htmlTruncated), 'every value says it is not the whole body')
  assert.equal(values[0]?.text.length, 256 * 1024, 'the first ones get their maxBodyBytes')
  assert.equal(values[29]?.text, '', 'the last ones get what is left: nothing')
})

test('body bytes count in the cost: the same page is refused at a larger maxBodyBytes', async (t) => {
  const { app } = await build(t)
  const page = (max: number): string => `{ messages(mailboxId: "${INBOX}", first: 50, maxBodyBytes: ${max}) { edges { node { id subject from { email } text html } } } }`
  const cheap = await gql(app, page(256 * 1024), { token: IMAP_TOKEN })
  assert.equal(cheap.errors, undefined)
  const costly = await gql(app, page(MAX_RESPONSE_BODY_BYTES), { token: IMAP_TOKEN })
  assert.deepEqual(codes(costly), ['bad-request'])
  assert.match(costly.errors?.[0]?.message ?? '', /Query cost \d+ exceeds the limit of 8000/)
})

test('large bodies wait for the process-wide response budget, and give it back once sent', async (t) => {
  const budget = new ByteBudget(16 * 1024 * 1024, { groupShare: 1, maxWaitMs: 200 })
  const { app, fake } = await build(t, { responseBudget: budget })
  const id = seed(fake, BIG, BIG)
  const query = `{ message(id: "${id}", maxBodyBytes: ${MAX_RESPONSE_BODY_BYTES}) { text html } }`
  // other responses hold the whole budget: a large body waits, then gives up
  const others = budget.permit()
  assert.equal(await others.acquire(budget.capacity), true)
  const refused = await gql(app, query, { token: IMAP_TOKEN })
  assert.deepEqual([...new Set(codes(refused))], ['rate-limited'], refused.raw.slice(0, 300))
  others.release()
  const served = await gql(app, query, { token: IMAP_TOKEN })
  assert.equal(served.errors, undefined)
  assert.equal(served.data?.message.text.length, Math.floor((RESPONSE_BODY_JSON_BYTES - 2) / 6), 'as much as one response may carry')
  assert.equal(budget.stats().available, budget.capacity, 'given back once sent')
  // small bodies never ask the budget
  const small = budget.permit()
  assert.equal(await small.acquire(budget.capacity), true)
  seed(fake, 'hello', '<p>hello</p>')
  assert.equal((await gql(app, query, { token: IMAP_TOKEN })).errors, undefined)
  small.release()
})
