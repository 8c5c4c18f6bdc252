/**
 * GraphQL face of the mail service (contract §5): mercurius at POST /graphql,
 * GraphiQL at /graphiql when enabled. Registered in its own encapsulated scope
 * so its error handler and hooks never touch the REST routes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import mercurius from 'mercurius'
import { Source, type DocumentNode, type Token } from 'graphql'
import type { Config } from '../config.ts'
import { WWW_AUTHENTICATE } from '../http/errors.ts'
import { GatewayError } from '../mail/errors.ts'
import type { MailServiceApi } from '../mail/service-types.ts'
import { limitAnonymous } from './anonymous-limit.ts'
import type { ByteBudget } from '../util/byte-budget.ts'
import { DEFAULT_RESPONSE_BUDGET_BYTES, responseBudget } from './body-allowance.ts'
import { buildContext } from './context.ts'
import { errorFormatter } from './errors.ts'
import { registerGraphiqlAssets } from './graphiql-assets.ts'
import { IntrospectionCache, introspectionKey, onlyIntrospection } from './introspection-cache.ts'
import { costCheck, DEFAULT_LIMITS, validationRules, type GraphqlLimits } from './limits.ts'
import { resolvers } from './resolvers/index.ts'
import { countValues, MAX_KEPT_TOKENS, MAX_QUERY_CHARS, MAX_TOKENS, MAX_VARIABLE_VALUES } from './document-bounds.ts'
import { loadSchemaFiles } from './schema-files.ts'
import { MailEventType, Subscription } from './resolvers/subscription.ts'
import { registerSubscriptions, type RealtimeOptions } from './subscriptions/index.ts'

export { MAX_KEPT_TOKENS, MAX_QUERY_CHARS, MAX_TOKENS, MAX_VARIABLE_VALUES } from './document-bounds.ts'

export interface GraphqlOptions {
  service: MailServiceApi
  /** graphqlAnonymousPerMinute: absent or 0 = no limit of unauthenticated requests. */
  config: Pick<Config, 'graphiql' | 'sessionTtlMax'> & Partial<Pick<Config, 'graphqlAnonymousPerMinute' | 'responseBudgetBytes' | 'upstreamTimeoutMs'>>
  /** Override query limits (depth, aliases, cost); defaults in DEFAULT_LIMITS. */
  limits?: Partial<GraphqlLimits>
  /** The introspection answers' memo (default: a new one for this schema). */
  introspection?: IntrospectionCache
  /** Body JSON held by responses at once (default: one of config.responseBudgetBytes, body-allowance.ts). */
  responseBudget?: ByteBudget
  /** Subscriptions over WebSocket at /graphql (subscriptions/); absent: none. */
  realtime?: RealtimeOptions
}

/**
 * GraphiQL's pages: its assets come from the gateway (graphiql-assets.ts), but
 * the page has an inline style: the CSP is relaxed for its pages only.
 */
const GRAPHIQL_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "frame-ancestors 'none'",
].join('; ')

async function graphiqlCsp (request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  if (request.url === '/graphiql' || request.url.startsWith('/graphiql/')) {
    reply.header('content-security-policy', GRAPHIQL_CSP)
  }
  return payload
}

/**
 * Every /graphql answer is personal (createSession's carries a token): no
 * cache keeps one. A 401 names its scheme (RFC 9110 §15.5.2), as REST's do.
 */
async function graphqlHeaders (request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  if (request.routeOptions.url !== '/graphql') return payload
  reply.header('cache-control', 'no-store')
  if (reply.statusCode === 401) reply.header('www-authenticate', WWW_AUTHENTICATE)
  return payload
}

/** A GraphQL request's parameters where mercurius reads them: the query string for GET, the body otherwise. */
function graphqlParams (request: FastifyRequest): { query?: unknown, operationName?: unknown, variables?: unknown } {
  const source = request.method === 'GET' ? request.query : request.body
  return (source ?? {}) as { query?: unknown, operationName?: unknown, variables?: unknown }
}

/**
 * What is refused before mercurius sees a request, all of it before any login:
 * - a batch (an array body): one operation per request;
 * - a query text over MAX_QUERY_CHARS: the token bound applies to GraphQL syntax
 *   only, and mercurius JSON-parses any text that is not GraphQL (the tree is then
 *   refused, see refuseUnboundedDocuments);
 * - variables holding more than MAX_VARIABLE_VALUES values (objects, arrays and
 *   leaves): graphql-js prints the whole offending value into each of its (up to
 *   50) coercion errors, so a filter with 60 000 unknown keys took 2.5–6 s.
 */
async function refuseOversizedRequests (request: FastifyRequest): Promise<void> {
  if (request.method === 'POST' && Array.isArray(request.body)) {
    throw new GatewayError('bad-request', 'Batched queries are disabled: send one operation per request')
  }
  const { query, variables } = graphqlParams(request)
  if (typeof query === 'string' && query.length > MAX_QUERY_CHARS) {
    throw new GatewayError('bad-request', `The query is longer than ${MAX_QUERY_CHARS} characters`)
  }
  if (countValues(variables) > MAX_VARIABLE_VALUES) {
    throw new GatewayError('bad-request', `The variables hold more than ${MAX_VARIABLE_VALUES} values`)
  }
}

/**
 * What a parsed document may not be, checked before validation (so a refused
 * text is never cached):
 * - a JSON syntax tree: mercurius reads a query that is not GraphQL text as one;
 *   the contract takes GraphQL text only, and a malformed tree broke the
 *   validation rules (a 500). Only a document parsed from text has a real Source
 *   (a tree can carry a `loc.source` of its own);
 * - more than MAX_KEPT_TOKENS tokens with its comments: graphql-js' maxTokens does
 *   not count comments, but the document keeps them in its token chain (64 KiB of
 *   `#` lines held 32 000 tokens per cached document).
 */
async function refuseUnboundedDocuments (_schema: unknown, document: DocumentNode): Promise<void> {
  if (!(document.loc?.source instanceof Source)) throw new GatewayError('bad-request', 'The query must be GraphQL text')
  let count = 0
  for (let token: Token | null = document.loc.startToken; token !== null; token = token.next) {
    if (++count > MAX_KEPT_TOKENS) throw new GatewayError('bad-request', `The query holds more than ${MAX_KEPT_TOKENS} tokens, comments included`)
  }
}

/**
 * mercurius' response schema serialises `errors[].path` items as strings; the
 * GraphQL spec wants list indices as integers (clients place errors by them).
 */
function integerPathIndices (route: RouteOptions): void {
  const response = route.schema?.response as Record<string, { properties?: Record<string, any> }> | undefined
  const path = response?.['2xx']?.properties?.errors?.items?.properties?.path
  if (path?.items !== undefined) path.items = { type: ['integer', 'string'] }
}

/**
 * Distinct query texts kept parsed and validated (each at most MAX_TOKENS tokens).
 * mercurius keeps refused texts in a second cache of the same size, and each
 * (quick-lru) holds up to twice its size. A parsed document keeps every token
 * (about 500 bytes each, ~300 KiB at 600 tokens), so 2 × 2 × 16 documents pin
 * under 20 MB, whoever sends them (parsing comes before authentication).
 * GraphiQL's introspection query has 183 tokens; a page query selecting every
 * message field about 100.
 */
const QUERY_CACHE = 16

export async function registerGraphql (app: FastifyInstance, opts: GraphqlOptions): Promise<void> {
  const schema = loadSchemaFiles()
  const limits: GraphqlLimits = { ...DEFAULT_LIMITS, ...opts.limits }
  const { service, config } = opts
  const budget = opts.responseBudget ?? responseBudget(config.responseBudgetBytes ?? DEFAULT_RESPONSE_BUDGET_BYTES, config.upstreamTimeoutMs ?? 15_000)

  const introspection = opts.introspection ?? new IntrospectionCache()
  /** Contexts of requests whose answer may be kept: the key to keep it under. */
  const keepAs = new WeakMap<object, string>()

  await app.register(async function graphql (scope) {
    scope.addHook('onRoute', integerPathIndices)
    scope.addHook('preHandler', refuseOversizedRequests)
    const anonymousPerMinute = config.graphqlAnonymousPerMinute ?? 0
    if (anonymousPerMinute > 0) limitAnonymous(scope, service, anonymousPerMinute)
    scope.addHook('preHandler', async (request, reply) => {
      if (request.routeOptions.url !== '/graphql') return
      const key = introspectionKey(graphqlParams(request))
      const answer = key === null ? undefined : introspection.get(key)
      if (answer !== undefined) return reply.send(answer)
    })
    scope.addHook('onSend', graphqlHeaders)
    if (config.graphiql) {
      scope.addHook('onSend', graphiqlCsp)
      registerGraphiqlAssets(scope)
    }
    const realtime = opts.realtime
    const subscription = realtime === undefined
      ? undefined
      : await registerSubscriptions(scope, { service, realtime, limits, schema: () => scope.graphql.schema })
    await scope.register(mercurius, {
      schema,
      resolvers: (subscription === undefined ? resolvers : { ...resolvers, Subscription, MailEvent: MailEventType }) as mercurius.IResolvers,
      ...(subscription === undefined ? {} : { subscription }),
      context: (request, reply) => buildContext(service, config.sessionTtlMax, budget, request, reply),
      graphiql: config.graphiql,
      allowBatchedQueries: false,
      // parsed and validated once per distinct query text, for the last QUERY_CACHE
      // texts; the cost, which depends on the variables (`first: $n`), is checked
      // per request below
      cache: QUERY_CACHE,
      // a parsed document costs about 500 bytes per token: without a bound a 1 MiB
      // body parses into ~250 MB
      graphql: { parseOptions: { maxTokens: MAX_TOKENS } },
      validationRules: validationRules(limits),
      errorFormatter,
      jit: 0,
    })
    scope.graphql.addHook('preValidation', refuseUnboundedDocuments)
    const checkCost = costCheck(limits.maxCost)
    scope.graphql.addHook('preExecution', async (schema, document, context, variables) => {
      // the operation that runs is named where mercurius reads it (never the URL of a POST)
      const request = context.reply?.request
      const named = request === undefined ? undefined : graphqlParams(request).operationName
      checkCost(schema, document, variables, typeof named === 'string' ? named : undefined)
      const key = request === undefined ? null : introspectionKey(graphqlParams(request))
      if (key !== null && onlyIntrospection(document, typeof named === 'string' ? named : undefined)) keepAs.set(context, key)
    })
    scope.graphql.addHook('onResolution', async (execution, context) => {
      const key = keepAs.get(context)
      if (key !== undefined && execution.errors === undefined && execution.data != null) introspection.set(key, { data: execution.data })
    })
  })
}
