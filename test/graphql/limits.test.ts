import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildSchema, getIntrospectionQuery, parse } from 'graphql'
import { getComplexity } from 'graphql-query-complexity'
import { costEstimator, DEFAULT_LIMITS } from '../../src/graphql/limits.ts'
import { MAX_KEPT_TOKENS, MAX_QUERY_CHARS, MAX_TOKENS, MAX_VARIABLE_VALUES } from '../../src/graphql/index.ts'
import { loadSchemaFiles } from '../../src/graphql/schema-files.ts'
import { build, codes, gql } from './helpers.ts'
import { IMAP_TOKEN, imapAccount, mailboxId } from './fake-data.ts'

const INBOX = mailboxId(imapAccount, 'INBOX')
const BODIES = 'text html attachments { id filename contentType size url } headers { name value }'
const BODY_PAGE_NULL = `messages(mailboxId: "${INBOX}", first: null) { edges { node { ${BODIES} } } }`
const pageQuery = (first: number | string, fields: string): string =>
  `query ($id: ID!${first === '$first' ? ', $first: Int' : ''}) { messages(mailboxId: $id, first: ${first}) { totalCount edges { node { id subject from { email } ${fields} } } } }`

test('GraphiQL\'s introspection query passes every limit', async (t) => {
  const { app } = await build(t)
  const res = await gql(app, getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true, specifiedByUrl: true }))
  assert.equal(res.errors, undefined)
  assert.ok(res.data?.__schema.types.some((ty: { name: string }) => ty.name === 'MessageConnection'))
})

test('over-deep queries are refused before anything runs, with a clear message', async (t) => {
  const { app, fake } = await build(t, { limits: { maxDepth: 4 } })
  let nested = 'name'
  for (let i = 0; i < 11; i++) nested = `type { fields { ${nested} } }`
  const intro = await gql(app, `{ __schema { types { fields { ${nested} } } } }`)
  // graphql-js' own MaxIntrospectionDepthRule may refuse it as well.
  assert.ok(codes(intro).length >= 1 && codes(intro).every(c => c === 'bad-request'), intro.raw)
  assert.ok(intro.errors?.some(e => e.message === 'Introspection depth 26 exceeds the limit of 20.'), intro.raw)
  assert.equal(intro.status, 400)

  const deep = await gql(app, '{ mailboxes { messages(first: 1) { edges { node { from { email } } } } } }', { token: IMAP_TOKEN })
  assert.deepEqual(codes(deep), ['bad-request'])
  assert.equal(deep.errors?.[0]?.message, 'Query depth 6 exceeds the limit of 4.')
  // Fragments do not hide depth.
  const viaFragment = await gql(app, 'query { ...Q } fragment Q on Query { mailboxes { ...M } } fragment M on Mailbox { messages { edges { node { id } } } }', { token: IMAP_TOKEN })
  assert.equal(viaFragment.errors?.[0]?.message, 'Query depth 5 exceeds the limit of 4.')
  assert.equal(fake.calls.length, 0)
  const ok = await gql(app, '{ mailboxes { messages { totalCount } } }', { token: IMAP_TOKEN })
  assert.equal(ok.errors, undefined)
})

test('inline fragments do not hide depth, at the root or further down', async (t) => {
  const { app, fake } = await build(t, { limits: { maxDepth: 4 } })
  // the same 6 levels as a plain query, each level behind an inline fragment
  const nested = await gql(app, '{ ... on Query { mailboxes { ... on Mailbox { messages(first: 1) { ... { edges { node { ... on Message { from { email } } } } } } } } } }', { token: IMAP_TOKEN })
  assert.deepEqual(codes(nested), ['bad-request'], nested.raw)
  assert.equal(nested.errors?.[0]?.message, 'Query depth 6 exceeds the limit of 4.')
  // only the root behind an inline fragment
  const root = await gql(app, '{ ... @include(if: true) { mailboxes { messages(first: 1) { edges { node { id } } } } } }', { token: IMAP_TOKEN })
  assert.equal(root.errors?.[0]?.message, 'Query depth 5 exceeds the limit of 4.', root.raw)
  assert.equal(fake.calls.length, 0)
  const ok = await gql(app, '{ ... on Query { mailboxes { ... on Mailbox { messages { totalCount } } } } }', { token: IMAP_TOKEN })
  assert.equal(ok.errors, undefined, ok.raw)
})

test('over-costly queries are refused, whether the page size is inline or a variable', async (t) => {
  const { app, fake } = await build(t)
  for (const [query, variables] of [
    [pageQuery(200, BODIES), { id: INBOX }],
    [pageQuery('$first', BODIES), { id: INBOX, first: 200 }],
    [`{ a: ${BODY_PAGE_NULL} b: ${BODY_PAGE_NULL} }`, {}],
    [`{ mailboxes { messages(first: 50) { edges { node { ${BODIES} } } } } }`, {}],
  ] as const) {
    const res = await gql(app, query, { token: IMAP_TOKEN, variables })
    assert.deepEqual(codes(res), ['bad-request'], query)
    assert.match(res.errors?.[0]?.message ?? '', /^Query cost \d+ exceeds the limit of 8000: ask for fewer messages \(first\) or fewer body fields/)
  }
  assert.equal(fake.calls.length, 0)
})

test('the cost is judged per request: one query text, cheap then costly then cheap variables', async (t) => {
  const { app } = await build(t)
  const query = pageQuery('$first', BODIES)
  const verdicts: unknown[] = []
  // twice over: the second round's verdicts come from the remembered costs
  for (const first of [10, 200, 10, 200, 10]) {
    const res = await gql(app, query, { token: IMAP_TOKEN, variables: { id: INBOX, first } })
    verdicts.push(codes(res))
  }
  assert.deepEqual(verdicts, [[], ['bad-request'], [], ['bad-request'], []], 'a cost is remembered for its variables, never for the query text alone')
  // the cost of these variables is known; an invalid one is still refused
  const invalid = await gql(app, query, { token: IMAP_TOKEN, variables: { id: null, first: 10 } })
  assert.equal(invalid.status, 400, invalid.raw)
  assert.deepEqual(codes(invalid), ['bad-request'])
})

test('the cost of the operation asked for by name is the one judged', async (t) => {
  const { app } = await build(t)
  const doc = `query Cheap { account { id } } query Costly { ${BODY_PAGE_NULL.replace('first: null', 'first: 200')} }`
  const cheap = await app.inject({ method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${IMAP_TOKEN}` }, payload: { query: doc, operationName: 'Cheap' } })
  assert.equal(cheap.json().errors, undefined, cheap.body)
  const costly = await app.inject({ method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${IMAP_TOKEN}` }, payload: { query: doc, operationName: 'Costly' } })
  assert.equal(costly.statusCode, 400)
  assert.match(costly.json().errors[0].message, /^Query cost \d+ exceeds the limit/)
})

test('a name in the URL of a POST cannot hide the costly operation that runs', async (t) => {
  const { app, fake } = await build(t)
  const costly = `query Big { ${BODY_PAGE_NULL.replace('first: null', 'first: 200')} }`
  for (const [what, query] of [['named', costly], ['anonymous', `{ ${BODY_PAGE_NULL.replace('first: null', 'first: 200')} }`]]) {
    const res = await app.inject({ method: 'POST', url: '/graphql?operationName=Cheap', headers: { authorization: `Bearer ${IMAP_TOKEN}` }, payload: { query } })
    assert.equal(res.statusCode, 400, `${what}: ${res.body}`)
    assert.deepEqual(res.json().errors.map((e: { extensions: { code: string } }) => e.extensions.code), ['bad-request'], what)
    assert.match(res.json().errors[0].message, /^Query cost \d+ exceeds the limit/, what)
  }
  // a name that matches no operation: nothing runs, and every operation is costed
  const unknown = await app.inject({ method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${IMAP_TOKEN}` }, payload: { query: costly, operationName: 'Cheap' } })
  assert.equal(unknown.statusCode, 400, unknown.body)
  assert.equal(fake.calls.length, 0)
})

test('ordinary pages stay under the cost limit', async (t) => {
  const { app } = await build(t)
  for (const [first, fields] of [[200, 'size keywords hasAttachment to { name email } cc { email }'], [50, BODIES], [100, 'text html']] as const) {
    const res = await gql(app, pageQuery('$first', fields), { token: IMAP_TOKEN, variables: { id: INBOX, first } })
    assert.equal(res.errors, undefined, `${first}: ${fields}`)
  }
})

test('cost model: page size multiplies, body fields weigh more, a non-positive size is not a discount', () => {
  const schema = buildSchema(loadSchemaFiles().join('\n'))
  const cost = (q: string): number => getComplexity({ schema, query: parse(q), estimators: [costEstimator(schema)], context: { sized: 0 } })
  const one = cost('{ messages(mailboxId: "x", first: 1) { edges { node { id } } } }')
  const ten = cost('{ messages(mailboxId: "x", first: 10) { edges { node { id } } } }')
  assert.equal(ten, one * 10)
  assert.equal(cost('{ messages(mailboxId: "x") { edges { node { id } } } }'), one * 50)
  assert.equal(cost('{ messages(mailboxId: "x", first: -100) { edges { node { id } } } }'), one)
  // null is served as the default page (50), so it is charged as one
  assert.equal(cost('{ messages(mailboxId: "x", first: null) { edges { node { id } } } }'), one * 50)
  assert.equal(getComplexity({ schema, query: parse('query ($n: Int) { messages(mailboxId: "x", first: $n) { edges { node { id } } } }'), variables: { n: null }, estimators: [costEstimator(schema)] }), one * 50)
  const withText = cost('{ messages(mailboxId: "x", first: 1) { edges { node { id text } } } }')
  assert.equal(withText - one, 20)
  const sized = (max: number): number => cost(`{ messages(mailboxId: "x", first: 1, maxBodyBytes: ${max}) { edges { node { id text html } } } }`)
  assert.equal(sized(32 * 1024), sized(256 * 1024), 'up to the default maxBodyBytes, no more and no less')
  assert.equal(sized(2 * 1024 * 1024) - sized(256 * 1024), 2 * 112, 'text and html each cost one more per 16 KiB above it')
  const viaFragment = cost('{ m: message(id: "x", maxBodyBytes: 2097152) { ...B } } fragment B on Message { text }')
  assert.equal(viaFragment, cost('{ m: message(id: "x") { text } }') + 112, 'through fragments too')
  assert.ok(cost('{ mailboxes { id } }') >= 20, 'a list of mailboxes is charged at its assumed size')
})

test('more than 30 aliases are refused; 30 are fine', async (t) => {
  const { app, fake } = await build(t)
  const aliases = (n: number): string => `{ ${Array.from({ length: n }, (_, i) => `a${i}: account { id }`).join(' ')} }`
  const ok = await gql(app, aliases(DEFAULT_LIMITS.maxAliases), { token: IMAP_TOKEN })
  assert.equal(ok.errors, undefined)
  const calls = fake.calls.length
  const res = await gql(app, aliases(DEFAULT_LIMITS.maxAliases + 1), { token: IMAP_TOKEN })
  assert.deepEqual(codes(res), ['bad-request'])
  assert.equal(res.errors?.[0]?.message, 'Too many aliases: at most 30 per request.')
  assert.equal(fake.calls.length, calls)
})

test('batched queries are refused', async (t) => {
  const { app, fake } = await build(t)
  const res = await app.inject({
    method: 'POST',
    url: '/graphql',
    headers: { authorization: `Bearer ${IMAP_TOKEN}` },
    payload: [{ query: '{ account { id } }' }, { query: '{ mailboxes { id } }' }],
  })
  assert.equal(res.statusCode, 400)
  const body = res.json()
  assert.deepEqual(body.errors.map((e: { extensions: { code: string } }) => e.extensions.code), ['bad-request'])
  assert.match(body.errors[0].message, /Batched queries are disabled/)
  assert.equal(fake.calls.length, 0)
})

test('a query of more than MAX_TOKENS tokens is refused before it is parsed whole', async (t) => {
  const { app, fake } = await build(t)
  const huge = `{ account { ${'id '.repeat(MAX_TOKENS)} } }`
  const res = await gql(app, huge, { token: IMAP_TOKEN })
  assert.equal(res.status, 400)
  assert.deepEqual(codes(res), ['bad-request'])
  assert.match(res.errors?.[0]?.message ?? '', /contains more th(?:at|an) \d+ tokens/)
  assert.equal(fake.calls.length, 0)
  const fine = await gql(app, `{ account { ${'id '.repeat(MAX_TOKENS / 4)} } }`, { token: IMAP_TOKEN })
  assert.equal(fine.errors, undefined)
})

test('comments count towards the tokens a document may keep (graphql-js leaves them out of maxTokens)', async (t) => {
  const { app, fake } = await build(t)
  const flood = `{ account { id } }\n${'#\n'.repeat(MAX_KEPT_TOKENS)}`
  const res = await gql(app, flood, { token: IMAP_TOKEN })
  assert.equal(res.status, 400)
  assert.deepEqual(codes(res), ['bad-request'])
  assert.match(res.errors?.[0]?.message ?? '', /more than \d+ tokens, comments included/)
  assert.equal(fake.calls.length, 0)
  const commented = await gql(app, '# my query\n{ account { id } } # the id\n', { token: IMAP_TOKEN })
  assert.equal(commented.errors, undefined)
})

test('a query text over MAX_QUERY_CHARS is refused, also as a JSON syntax tree (which mercurius would parse)', async (t) => {
  const { app, fake } = await build(t)
  const padded = `{ account { id } } # ${'x'.repeat(MAX_QUERY_CHARS)}`
  const tree = JSON.stringify({ ...parse('{ account { id } }'), padding: 'x'.repeat(MAX_QUERY_CHARS) })
  for (const query of [padded, tree]) {
    const res = await gql(app, query, { token: IMAP_TOKEN })
    assert.equal(res.status, 400)
    assert.deepEqual(codes(res), ['bad-request'])
    assert.match(res.errors?.[0]?.message ?? '', /longer than \d+ characters/)
  }
  assert.equal(fake.calls.length, 0)
})

test('a query sent as a JSON syntax tree is refused as a bad request, never run', async (t) => {
  const { app, fake } = await build(t)
  // mercurius tries JSON.parse on a query that is not GraphQL text; such trees are not
  // what the contract accepts, and a malformed one reached the validation rules broken
  const trees = [
    { kind: 'Document', definitions: [{ kind: 'OperationDefinition', operation: 'query' }] },
    parse('{ mailboxes { id } }'),
    // a tree may carry a loc.source of its own: only a real Source shows the text was parsed
    { kind: 'Document', loc: { start: 0, end: 1, source: {} }, definitions: [{ kind: 'OperationDefinition', operation: 'query' }] },
  ]
  for (const tree of trees) {
    const res = await gql(app, JSON.stringify(tree), { token: IMAP_TOKEN })
    assert.equal(res.status, 400, res.raw)
    assert.deepEqual(codes(res), ['bad-request'], res.raw)
  }
  assert.equal(fake.calls.length, 0)
})

test('variables holding more than MAX_VARIABLE_VALUES values are refused before coercion, without a token', async (t) => {
  const { app, fake } = await build(t)
  // graphql-js printed the whole object into each coercion error: 60 000 unknown keys took seconds
  const filter = Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`k${i}`, true]))
  const res = await gql(app, 'query ($f: MessageFilter) { messages(mailboxId: "x", filter: $f) { totalCount } }', { variables: { f: filter } })
  assert.equal(res.status, 400)
  assert.deepEqual(codes(res), ['bad-request'])
  assert.match(res.errors?.[0]?.message ?? '', new RegExp(`more than ${MAX_VARIABLE_VALUES} values`))
  // nested arrays count too; a real page query is far below the bound
  const nested = await gql(app, 'query ($f: MessageFilter) { messages(mailboxId: "x", filter: $f) { totalCount } }', { variables: { f: { from: Array.from({ length: 50 }, () => Array(30).fill('a')) } } })
  assert.deepEqual(codes(nested), ['bad-request'])
  assert.match(nested.errors?.[0]?.message ?? '', /values/)
  // a GET's variables are JSON text in the URL: counted the same way
  const variables = JSON.stringify({ f: Object.fromEntries(Array.from({ length: MAX_VARIABLE_VALUES + 1 }, (_, i) => [`k${i}`, 1])) })
  const get = await app.inject({ method: 'GET', url: `/graphql?${new URLSearchParams({ query: 'query ($f: MessageFilter) { messages(mailboxId: "x", filter: $f) { totalCount } }', variables })}` })
  assert.equal(get.statusCode, 400, get.body)
  assert.match(get.body, new RegExp(`more than ${MAX_VARIABLE_VALUES} values`))
  assert.equal(fake.calls.length, 0, 'nothing reached the service')
  const page = await gql(app, 'query ($id: ID!, $first: Int, $f: MessageFilter) { messages(mailboxId: $id, first: $first, filter: $f) { totalCount } }',
    { token: IMAP_TOKEN, variables: { id: INBOX, first: 5, f: { unread: true } } })
  assert.equal(page.errors, undefined, page.raw)
  assert.ok(fake.calls.length > 0)
})
