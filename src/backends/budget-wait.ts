/**
 * The parse budget's wait, shared by both backends. A read that finds the
 * budget spent elsewhere gives its connection or maildrop lease back first
 * (tryAcquire under the lease, refused), waits here holding nothing, and then
 * leases again. Past the budget's bound the gateway is busy, not the mail
 * server: 429 with Retry-After, never a timeout blamed on the mail server.
 */
import { GatewayError } from '../mail/errors.ts'
import type { Permit } from '../util/byte-budget.ts'

/** Seconds a caller is asked to wait when the budget stayed spent for the whole bound. */
export const BUSY_RETRY_AFTER = 2

export async function awaitBudget (permit: Permit, bytes: number): Promise<void> {
  if (await permit.acquire(bytes)) return
  throw new GatewayError('rate-limited', 'The gateway is busy reading other large messages; retry shortly', { retryAfter: BUSY_RETRY_AFTER })
}

/** A read under a lease that could not take its share of the budget: nothing is held, wait for `bytes` and come back. */
export interface BudgetShort {
  short: number
}

export function isShort (x: unknown): x is BudgetShort {
  return typeof x === 'object' && x !== null && 'short' in x
}
