import assert from 'node:assert/strict'
import { test } from 'node:test'
import { auth, setup } from './helpers.ts'

const deep = '{ mailboxes { messages(first: 1) { edges { node { attachments { id } } } } } }' // depth 6

async function ask (app: Awaited<ReturnType<typeof setup>>['app'], query: string): Promise<{ errors?: Array<{ extensions?: { code?: string } }> }> {
  const res = await app.inject({ method: 'POST', url: '/graphql', headers: { ...auth, 'content-type': 'application/json' }, payload: { query } })
  return res.json()
}

test('GRAPHQL_MAX_DEPTH and GRAPHQL_MAX_COST reach the GraphQL limits', async (t) => {
  const loose = await setup(t)
  assert.ok(!(await ask(loose.app, deep)).errors?.some(e => e.extensions?.code === 'bad-request'), 'accepted under the defaults')

  const strict = await setup(t, { GRAPHQL_MAX_DEPTH: '3' })
  assert.equal((await ask(strict.app, deep)).errors?.[0]?.extensions?.code, 'bad-request')

  const cheap = await setup(t, { GRAPHQL_MAX_COST: '5' })
  assert.equal((await ask(cheap.app, '{ mailboxes { id name path } }')).errors?.[0]?.extensions?.code, 'bad-request')
})
