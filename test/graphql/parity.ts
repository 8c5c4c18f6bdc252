/**
 * Reusable GraphQL side of the REST ↔ GraphQL parity checks (contract §5: the
 * same values for every shared field). Queries select EVERY field of the SDL
 * types, built from schema/*.graphql, so a field added to the SDL is compared too.
 *
 *   const gql = await graphqlMessagePage(app, token, mailboxId, { first: 20 })
 *   const rest = (await app.inject({ url: `/v1/mailboxes/${mailboxId}/messages?limit=20`, headers })).json()
 *   assertSameFields(rest, gql, 'page')
 */
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { buildSchema, getNamedType, isObjectType, type GraphQLSchema } from 'graphql'
import { BODY_FIELDS, BODY_VALUE_FIELDS } from '../../src/graphql/resolvers/message.ts'
import { loadSchemaFiles } from '../../src/graphql/schema-files.ts'

let cached: GraphQLSchema | undefined
export const sdlSchema = (): GraphQLSchema => (cached ??= buildSchema(loadSchemaFiles().join('\n')))

/** Every field of a type without arguments, sub-selected recursively. */
export function selectionOf (typeName: string, skip: readonly string[] = []): string {
  const type = sdlSchema().getType(typeName)
  assert.ok(isObjectType(type), `${typeName} is not an object type`)
  const fields = Object.values(type.getFields()).filter(f => f.args.length === 0 && !skip.includes(f.name))
  return `{ ${fields.map(f => {
    const named = getNamedType(f.type)
    return isObjectType(named) ? `${f.name} ${selectionOf(named.name)}` : f.name
  }).join(' ')} }`
}

export const summarySelection = (): string => selectionOf('Message', [...BODY_FIELDS, ...BODY_VALUE_FIELDS])
export const messageSelection = (): string => selectionOf('Message')

type App = Pick<FastifyInstance, 'inject'>

async function post (app: App, token: string, query: string, variables: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await app.inject({ method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${token}` }, payload: { query, variables } })
  const body = res.json()
  assert.equal(body.errors, undefined, `GraphQL errors: ${JSON.stringify(body.errors)}`)
  return body.data
}

/** A page of messages over GraphQL, in the REST page shape `{ items, nextCursor, total }`. */
export async function graphqlMessagePage (
  app: App, token: string, mailboxId: string, opts: { first?: number, after?: string, bodies?: boolean } = {}
): Promise<{ items: Array<Record<string, unknown>>, nextCursor: string | null, total: number }> {
  const query = `query ($id: ID!, $first: Int, $after: String) {
    messages(mailboxId: $id, first: $first, after: $after) {
      totalCount pageInfo { endCursor } edges { node ${opts.bodies === true ? messageSelection() : summarySelection()} }
    }
  }`
  const data = await post(app, token, query, { id: mailboxId, first: opts.first ?? 50, after: opts.after ?? null })
  const conn = data.messages
  return { items: conn.edges.map((e: { node: Record<string, unknown> }) => e.node), nextCursor: conn.pageInfo.endCursor, total: conn.totalCount }
}

/** One message over GraphQL, every field (REST GET /v1/messages/{id}[?maxBodyBytes=…]). */
export async function graphqlMessage (app: App, token: string, id: string, maxBodyBytes?: number): Promise<Record<string, unknown>> {
  return (await post(app, token, `query ($id: ID!, $max: Int) { message(id: $id, maxBodyBytes: $max) ${messageSelection()} }`, { id, max: maxBodyBytes ?? null })).message
}

export async function graphqlAccount (app: App, token: string): Promise<Record<string, any>> {
  return (await post(app, token, `{ account ${selectionOf('Account')} }`, {})).account
}

export async function graphqlMailboxes (app: App, token: string): Promise<Array<Record<string, unknown>>> {
  return (await post(app, token, `{ mailboxes ${selectionOf('Mailbox')} }`, {})).mailboxes
}

/**
 * Every field REST returns must be present over GraphQL with the same value
 * (deep, JSON values). GraphQL may have more fields (body fields on a list item,
 * protocol-specific capabilities), which must then be null in capabilities.
 * Returns how many leaf values were compared, so callers can check it was not none.
 */
export function assertSameFields (rest: unknown, gql: unknown, label = '$'): number {
  if (rest === null || typeof rest !== 'object') {
    assert.deepEqual(gql, rest, `${label}: REST ${JSON.stringify(rest)} ≠ GraphQL ${JSON.stringify(gql)}`)
    return 1
  }
  if (Array.isArray(rest)) {
    assert.ok(Array.isArray(gql), `${label}: REST has an array, GraphQL ${JSON.stringify(gql)}`)
    assert.equal(gql.length, rest.length, `${label}: length`)
    return rest.reduce((n: number, r, i) => n + assertSameFields(r, gql[i], `${label}[${i}]`), 0)
  }
  assert.ok(gql !== null && typeof gql === 'object' && !Array.isArray(gql), `${label}: REST has an object, GraphQL ${JSON.stringify(gql)}`)
  let n = 0
  for (const [key, value] of Object.entries(rest)) {
    assert.ok(key in gql, `${label}.${key}: in REST, missing over GraphQL`)
    n += assertSameFields(value, (gql as Record<string, unknown>)[key], `${label}.${key}`)
  }
  if (label.endsWith('.capabilities')) {
    for (const [key, value] of Object.entries(gql)) {
      if (!(key in rest)) assert.equal(value, null, `${label}.${key}: not reported by REST, so must be null over GraphQL`)
    }
  }
  return n
}
