/**
 * RATE_LIMIT_PER_MINUTE counted across the deployment: a fixed one-minute
 * window per client in Redis (rate-limiter-flexible's RateLimiterRedis: one
 * script per hit, SET NX EX + INCRBY on one key, so one Cluster slot).
 *
 *   mg:v1:rl:<digest>    counter, EX 60 s; digest = keyed HMAC of the client key
 *
 * The client address never appears in clear. When Redis cannot be reached
 * (or within 300 ms), each instance counts on its own meanwhile (an in-memory
 * limiter of the same size), as it does without Redis.
 */
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible'
import { globalKey } from './keys.ts'
import type { RedisStore } from './redis-store.ts'

/** Seconds until the client may retry, or 0 when this hit is allowed (the face's RequestLimiter). */
export interface SharedRequestLimiter {
  hit: (key: string) => Promise<number>
}

export function redisRequestLimiter (store: RedisStore, secret: Buffer, perMinute: number): SharedRequestLimiter {
  const window = { points: perMinute, duration: 60, keyPrefix: '' }
  const limiter = new RateLimiterRedis({
    ...window,
    storeClient: store.client,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory(window),
  })
  return {
    async hit (key) {
      try {
        await limiter.consume(globalKey(secret, 'rl', key))
        return 0
      } catch (res) {
        // over the limit: the window's rest; any other failure (both stores): allow
        return res instanceof RateLimiterRes ? Math.max(1, Math.ceil(res.msBeforeNext / 1000)) : 0
      }
    },
  }
}
