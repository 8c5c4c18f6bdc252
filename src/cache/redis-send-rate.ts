/**
 * SEND_RATE_PER_MINUTE counted across the deployment (the core's
 * SendRateLimit): a fixed one-minute window per account in Redis
 * (rate-limiter-flexible's RateLimiterRedis, as redis-rate-limit.ts: one
 * script per hit on one key).
 *
 *   mg:v1:{<account tag>}:send-rate:<digest>   counter, EX 60 s
 *
 * The key carries the account's hash tag, so in a Redis Cluster it lives in
 * that account's slot with its other keys; no account id appears in clear.
 * Unlike the request limit there is no in-memory insurance: when Redis
 * cannot be reached `take` rejects and the send is refused (fail closed).
 */
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible'
import { accountTag, cacheKey } from './keys.ts'
import type { RedisStore } from './redis-store.ts'
import type { SendRateLimit } from '../mail/send-rate.ts'

export function sendRateKey (secret: Buffer, accountId: string): string {
  return cacheKey(secret, accountTag(secret, accountId), 'send-rate')
}

export function redisSendRate (store: RedisStore, secret: Buffer, perMinute: number): SendRateLimit {
  const limiter = new RateLimiterRedis({
    points: perMinute,
    duration: 60,
    keyPrefix: '',
    storeClient: store.client,
    rejectIfRedisNotReady: true,
  })
  return {
    async take (accountId) {
      try {
        await limiter.consume(sendRateKey(secret, accountId))
        return 0
      } catch (res) {
        if (res instanceof RateLimiterRes) return Math.max(1, Math.ceil(res.msBeforeNext / 1000))
        throw res
      }
    },
  }
}
