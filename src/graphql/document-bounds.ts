/**
 * Bounds on one GraphQL document and its variables, checked before anything
 * costly: on POST/GET /graphql (index.ts) and on each WebSocket `subscribe`
 * (subscriptions/subscribe-check.ts).
 */
/** Tokens graphql-js parses of one document (its maxTokens). */
export const MAX_TOKENS = 600
/** Tokens a document may keep with its comments (graphql-js' maxTokens leaves them out). */
export const MAX_KEPT_TOKENS = 2 * MAX_TOKENS
/** Characters of one query text (the introspection query has about 2 000). */
export const MAX_QUERY_CHARS = 64 * 1024
/**
 * Values in one request's variables: a page query uses a handful, createSession
 * about ten. Unknown keys are what costs (one coercion error each, ~30 µs), so
 * the bound is kept low: 256 of them cost a few milliseconds.
 */
export const MAX_VARIABLE_VALUES = 256

/** Values in variables, counted up to one past the bound; a GET's JSON text is read as mercurius will read it. */
export function countValues (variables: unknown): number {
  let root = variables
  if (typeof root === 'string') {
    try {
      root = JSON.parse(root) // bounded by the URL's length; mercurius reports malformed JSON itself
    } catch {
      return 0
    }
  }
  const stack: unknown[] = [root]
  let count = 1
  while (stack.length > 0 && count <= MAX_VARIABLE_VALUES) {
    const value = stack.pop()
    if (value === null || typeof value !== 'object') continue
    for (const key in value) {
      if (++count > MAX_VARIABLE_VALUES) break
      stack.push((value as Record<string, unknown>)[key])
    }
  }
  return count
}
