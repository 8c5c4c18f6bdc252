/**
 * Introspection answers, memoised per schema: the answer to an operation that
 * selects only introspection fields (`__schema`, `__type`, `__typename`)
 * depends on nothing but the schema and the request's text, operation name
 * and variables. Building GraphiQL's introspection answer costs about 10 ms of
 * CPU, and it needs no token; a repeat is now served from here before
 * mercurius parses anything.
 *
 * Keyed by the exact request (text ‖ operation name ‖ variables), bounded in
 * entries; an answer with errors is never kept.
 */
import type { DocumentNode, OperationDefinitionNode } from 'graphql'
import { Kind } from 'graphql'
import { LRUCache } from 'lru-cache'

const MAX_ENTRIES = 16

export interface IntrospectionRequest { query?: unknown, operationName?: unknown, variables?: unknown }

/** The cache key of a request, or null when it cannot be an introspection request. */
export function introspectionKey ({ query, operationName, variables }: IntrospectionRequest): string | null {
  // every introspection field starts with "__": other requests cost no key
  if (typeof query !== 'string' || !query.includes('__')) return null
  const vars = typeof variables === 'string' ? variables : JSON.stringify(variables ?? null)
  return `${query}\0${typeof operationName === 'string' ? operationName : ''}\0${vars}`
}

/** True when the operation that runs selects introspection fields only (no fragment at its top). */
export function onlyIntrospection (document: DocumentNode, operationName: string | undefined): boolean {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
  const op = operationName === undefined ? (operations.length === 1 ? operations[0] : undefined) : operations.find(o => o.name?.value === operationName)
  if (op === undefined || op.operation !== 'query') return false
  return op.selectionSet.selections.every(s => s.kind === Kind.FIELD && s.name.value.startsWith('__'))
}

export class IntrospectionCache {
  readonly #answers = new LRUCache<string, object>({ max: MAX_ENTRIES })
  /** Answers served from here (tests and debug stats). */
  hits = 0

  get (key: string): object | undefined {
    const answer = this.#answers.get(key)
    if (answer !== undefined) this.hits++
    return answer
  }

  set (key: string, answer: object): void {
    this.#answers.set(key, answer)
  }
}
