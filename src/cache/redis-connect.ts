/**
 * A client for what REDIS_URL names (redis-target.ts): one server, or a
 * Redis Cluster from its seeds. Each user brings its own tuning — the cache
 * fails fast (redis-store.ts), the event bus and the webhook queue ride out a
 * short outage — and gets the same URL handling, credentials and TLS. A
 * Cluster is typed as Redis: the per-key commands, scripts and MULTI used
 * across the gateway are the same on both.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis'
import { parseRedisTarget } from './redis-target.ts'

export function connectRedis (url: string, cluster: boolean, options: RedisOptions): Redis {
  const target = parseRedisTarget(url, cluster)
  if (target.kind === 'single') return new Redis(target.url, options)
  const { retryStrategy, enableOfflineQueue, lazyConnect, ...node } = options
  return new Cluster(target.seeds, {
    ...(retryStrategy === undefined ? {} : { clusterRetryStrategy: retryStrategy }),
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(lazyConnect === undefined ? {} : { lazyConnect }),
    redisOptions: {
      ...node,
      ...(target.username !== undefined ? { username: target.username } : {}),
      ...(target.password !== undefined ? { password: target.password } : {}),
      ...(target.tls ? { tls: {} } : {}),
    },
  }) as unknown as Redis
}
