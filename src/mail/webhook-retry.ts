/**
 * What a delivery's answer means (contract §9, Standard Webhooks): 2xx
 * delivers; 410 Gone disables the webhook; anything else — 3xx included, as
 * redirects are not followed — and no answer at all are failures, retried
 * with exponential backoff until the retry window has passed, then dropped
 * and counted.
 */

export type Verdict = 'delivered' | 'gone' | 'retry'

export function verdictOf (status: number | null): Verdict {
  if (status !== null && status >= 200 && status < 300) return 'delivered'
  if (status === 410) return 'gone'
  return 'retry'
}

export interface RetryPolicy {
  /** Delay after the first failure (WEBHOOK_RETRY_BASE_MS, default 5 000). */
  baseMs: number
  /** Longest delay between attempts: 1 h. */
  maxDelayMs: number
  /** How long after it was queued a delivery is still retried (WEBHOOK_RETRY_WINDOW_MS, default 24 h). */
  windowMs: number
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 5000, maxDelayMs: 3_600_000, windowMs: 24 * 3_600_000 }

/** Delay before attempt `failures + 1`: base · 2^(failures − 1), at most maxDelayMs. */
export function retryDelayMs (failures: number, policy: RetryPolicy): number {
  const exp = Math.min(Math.max(failures - 1, 0), 30)
  return Math.min(policy.baseMs * 2 ** exp, policy.maxDelayMs)
}

/** True once a delivery queued at `queuedAt` has been retried for the whole window and is dropped. */
export function expired (queuedAt: number, now: number, policy: RetryPolicy): boolean {
  return now - queuedAt >= policy.windowMs
}
