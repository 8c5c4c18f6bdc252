/**
 * The checks a `subscribe` message's document passes before mercurius runs
 * it, the same as a query over HTTP gets (index.ts, limits.ts): text length,
 * tokens (comments included), variables' size, syntax, the standard
 * validation rules with the depth and alias limits, one subscription
 * operation, its variables' coercion and the cost limit. mercurius validates
 * nothing on this path, and a document that fails while it runs leaves its
 * state behind until the socket closes; here it is answered with the
 * protocol's `error` message instead, each error with `extensions.code`
 * `bad-request` and no value the caller sent (scrubValues).
 */
import {
  getOperationAST, getVariableValues, GraphQLError, parse, specifiedRules, validate,
  type DocumentNode, type GraphQLSchema,
} from 'graphql'
import { countValues, MAX_KEPT_TOKENS, MAX_QUERY_CHARS, MAX_TOKENS, MAX_VARIABLE_VALUES } from '../document-bounds.ts'
import { scrubValues } from '../errors.ts'
import { costCheck, validationRules, type GraphqlLimits } from '../limits.ts'
import type { DocumentCheck } from './connection.ts'

interface PublicError { message: string, locations?: Array<{ line: number, column: number }>, extensions: { code: 'bad-request' } }

function publicErrors (errors: readonly GraphQLError[]): PublicError[] {
  return errors.map(e => ({
    message: scrubValues(e.message),
    ...(e.locations === undefined ? {} : { locations: e.locations.map(({ line, column }) => ({ line, column })) }),
    extensions: { code: 'bad-request' },
  }))
}

const refuse = (message: string): PublicError[] => [{ message, extensions: { code: 'bad-request' } }]

function keptTokens (document: DocumentNode): number {
  let count = 0
  for (let token = document.loc?.startToken ?? null; token !== null; token = token.next) {
    if (++count > MAX_KEPT_TOKENS) break
  }
  return count
}

export function subscribeCheck (schema: () => GraphQLSchema, limits: GraphqlLimits): DocumentCheck {
  const rules = [...specifiedRules, ...validationRules(limits)]
  const checkCost = costCheck(limits.maxCost)
  return ({ query, variables, operationName }) => {
    if (typeof query !== 'string') return refuse('The query must be GraphQL text')
    if (query.length > MAX_QUERY_CHARS) return refuse(`The query is longer than ${MAX_QUERY_CHARS} characters`)
    if (variables !== undefined && variables !== null && typeof variables !== 'object') return refuse('variables must be an object')
    if (countValues(variables) > MAX_VARIABLE_VALUES) return refuse(`The variables hold more than ${MAX_VARIABLE_VALUES} values`)
    if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return refuse('operationName must be a string')
    const name = operationName ?? undefined
    let document: DocumentNode
    try {
      document = parse(query, { maxTokens: MAX_TOKENS })
    } catch (err) {
      return err instanceof GraphQLError ? publicErrors([err]) : refuse('The query could not be parsed')
    }
    if (keptTokens(document) > MAX_KEPT_TOKENS) return refuse(`The query holds more than ${MAX_KEPT_TOKENS} tokens, comments included`)
    const invalid = validate(schema(), document, rules)
    if (invalid.length > 0) return publicErrors(invalid)
    const operation = getOperationAST(document, name)
    if (operation == null) return refuse('Name the operation to run (operationName)')
    if (operation.operation !== 'subscription') return refuse('Only subscriptions run over the WebSocket: send queries and mutations with POST /graphql')
    const coerced = getVariableValues(schema(), operation.variableDefinitions ?? [], (variables ?? {}) as Record<string, unknown>, { maxErrors: 10 })
    if (coerced.errors !== undefined) return publicErrors(coerced.errors)
    try {
      checkCost(schema(), document, coerced.coerced, name)
    } catch (err) {
      return refuse((err as Error).message)
    }
    return null
  }
}
