/**
 * UPSTREAM_TIMEOUT_MS bounds one step with a mail server (connect, greeting, a
 * command). A whole operation runs several, so it, a wait for a pooled connection
 * and a wait for the parse budget each get this many of them. Stated once: the
 * README and openapi.yaml say "4 × UPSTREAM_TIMEOUT_MS".
 */
export const OPERATION_STEPS = 4

export function operationTimeoutMs (upstreamTimeoutMs: number): number {
  return OPERATION_STEPS * upstreamTimeoutMs
}

/**
 * The longest a request may keep its client waiting without a byte: the waits it
 * can make one after another (a pooled connection, the parse budget, the
 * operation) twice over (an IMAP read retried on a new connection; a POP3 read
 * that gave its maildrop back to wait), plus one step, plus one more for a
 * GraphQL response waiting for the response budget. The HTTP server's idle
 * timeout must not be shorter: it would close the socket before the 429 or 504
 * that ends the wait could be sent.
 */
export function requestIdleBoundMs (upstreamTimeoutMs: number): number {
  return (2 * 3 * OPERATION_STEPS + 2) * upstreamTimeoutMs
}
