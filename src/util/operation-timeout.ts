/**
 * UPSTREAM_TIMEOUT_MS bounds one step with a mail server (connect, greeting, a
 * command). A whole operation runs several, so it, a wait for a pooled connection
 * and a wait for the parse budget each get this many of them; an HTTP request's
 * connection timeout is no shorter. Stated once: the README and openapi.yaml say
 * "4 × UPSTREAM_TIMEOUT_MS".
 */
export const OPERATION_STEPS = 4

export function operationTimeoutMs (upstreamTimeoutMs: number): number {
  return OPERATION_STEPS * upstreamTimeoutMs
}
