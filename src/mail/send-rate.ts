/**
 * SEND_RATE_PER_MINUTE (contract §10): messages per account and minute. The
 * port lets the deployment count in one place (src/cache/redis-send-rate.ts:
 * every instance sharing the Redis shares the budget); without Redis each
 * process counts in its own memory (`localSendRate`).
 *
 * Fails closed: when the shared counter cannot be reached the send is `503
 * unavailable` with `Retry-After`, as the Idempotency-Key records are, and
 * never sent past a limit nobody counted.
 */
import { GatewayError } from './errors.ts'
import type { AttemptBuckets } from '../util/attempt-buckets.ts'

export interface SendRateLimit {
  /**
   * Counts one message of the account: 0 when it may go, else the seconds
   * until it may. Rejects when the counter cannot be reached.
   */
  take: (accountId: string) => Promise<number>
}

/** This process's own count: a token bucket of `perMinute` per account. */
export function localSendRate (buckets: AttemptBuckets, perMinute: number): SendRateLimit {
  return {
    async take (accountId) {
      const wait = await buckets.take([{ key: `send\n${accountId}`, limit: perMinute }], 60_000)
      return wait > 0 ? Math.ceil(wait / 1000) : 0
    },
  }
}

/** One message of the account against the limit: `429 rate-limited` over it, `503 unavailable` when it cannot be counted. */
export async function takeSendRate (limit: SendRateLimit, accountId: string, perMinute: number): Promise<void> {
  let wait: number
  try {
    wait = await limit.take(accountId)
  } catch (err) {
    throw new GatewayError('unavailable', 'the send rate cannot be counted; repeat the request', { retryAfter: 1, cause: err })
  }
  if (wait > 0) throw new GatewayError('rate-limited', `at most ${perMinute} messages per minute from this account`, { retryAfter: Math.max(1, wait) })
}
