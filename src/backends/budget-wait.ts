/**
 * The parse budget's wait, shared by both backends. A read under a lease takes
 * the budget only if it is held already or free now (Permit.hold); refused, it
 * answers how much it needs (BudgetShort), gives its connection or maildrop lease
 * back, waits here holding nothing, and leases again (withinBudget). Past the
 * budget's bound the gateway is busy, not the mail server: 429 with Retry-After,
 * never a timeout blamed on the mail server.
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

/**
 * Runs `attempt` (a read under a lease) until it is not short of the budget. In
 * between, the budget is waited for inside `around`, which gives the caller's lease
 * back before and takes it again after (an attempt that leases by itself needs
 * none). A message's size never changes, so the second attempt finds its need
 * covered; a server whose sizes keep growing is cut off after three.
 */
export async function withinBudget<T> (permit: Permit, attempt: () => Promise<T | BudgetShort>,
  around: (wait: () => Promise<void>) => Promise<void> = async (wait) => { await wait() }): Promise<T> {
  for (let round = 1; ; round++) {
    const got = await attempt()
    if (!isShort(got)) return got
    if (round === 3) throw new GatewayError('upstream-unavailable', 'the mail server reported other message sizes on every read')
    await around(async () => { await awaitBudget(permit, got.short) })
  }
}
