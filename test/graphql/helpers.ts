/**
 * Builds a fastify app with only the GraphQL face over a FakeMailService, and
 * sends GraphQL requests to it.
 */
import type { TestContext } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import { registerGraphql } from '../../src/graphql/index.ts'
import type { IntrospectionCache } from '../../src/graphql/introspection-cache.ts'
import type { GraphqlLimits } from '../../src/graphql/limits.ts'
import type { ByteBudget } from '../../src/util/byte-budget.ts'
import { FakeMailService } from './fake-service.ts'

export interface Built {
  app: FastifyInstance
  fake: FakeMailService
  logs: string[]
}

export async function build (t: TestContext, opts: { graphiql?: boolean, limits?: Partial<GraphqlLimits>, anonymousPerMinute?: number, introspection?: IntrospectionCache, responseBudget?: ByteBudget } = {}): Promise<Built> {
  const fake = new FakeMailService()
  const logs: string[] = []
  const stream = { write: (line: string) => { logs.push(line) } }
  const app = Fastify({ logger: { level: 'info', stream } })
  await registerGraphql(app, {
    service: fake,
    config: { graphiql: opts.graphiql ?? false, sessionTtlMax: 86400, graphqlAnonymousPerMinute: opts.anonymousPerMinute ?? 0 },
    ...(opts.limits === undefined ? {} : { limits: opts.limits }),
    ...(opts.introspection === undefined ? {} : { introspection: opts.introspection }),
    ...(opts.responseBudget === undefined ? {} : { responseBudget: opts.responseBudget }),
  })
  await app.ready()
  t.after(() => app.close())
  return { app, fake, logs }
}

export interface GqlError { message: string, path?: Array<string | number>, extensions?: { code?: string, [k: string]: unknown } }
export interface GqlResponse<T = Record<string, any>> {
  status: number
  data: T | null
  errors: GqlError[] | undefined
  raw: string
}

export async function gql<T = Record<string, any>> (
  app: FastifyInstance, query: string, opts: { token?: string, authorization?: string, variables?: Record<string, unknown> } = {}
): Promise<GqlResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (opts.authorization !== undefined) headers.authorization = opts.authorization
  else if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`
  const res = await app.inject({ method: 'POST', url: '/graphql', headers, payload: { query, variables: opts.variables } })
  const body = JSON.parse(res.body) as { data?: T | null, errors?: GqlError[] }
  return { status: res.statusCode, data: body.data ?? null, errors: body.errors, raw: res.body }
}

/** The codes of a response's errors, in order. */
export const codes = (res: GqlResponse): Array<string | undefined> => (res.errors ?? []).map(e => e.extensions?.code)
