/**
 * Webhook wiring (contract §9): the Redis store and queues, the delivery
 * worker, the bus fan-out and the registrations' use cases, over one Redis
 * connection of their own (durable state, not the evicting cache's client).
 * Without Redis there are no webhooks: the faces answer `422 unsupported`.
 */
import { lookup as dnsLookup } from 'node:dns/promises'
import { GatewayError } from '../mail/errors.ts'
import type { EventBus } from '../mail/events.ts'
import type { Leases } from '../mail/lease-port.ts'
import type { Watching } from '../mail/watch-port.ts'
import { WebhookFanout } from '../mail/webhook-fanout.ts'
import { DEFAULT_RETRY } from '../mail/webhook-retry.ts'
import { Webhooks } from '../mail/webhooks.ts'
import type { Authenticate } from '../mail/webhooks-types.ts'
import { noMetrics, type MetricsPort } from '../metrics/port.ts'
import { createHostGuard, type HostGuard } from '../net/host-guard.ts'
import type { WebhookSettings } from '../config.ts'
import { connectRedis } from '../cache/redis-connect.ts'
import { RedisLeases } from '../cache/redis-leases.ts'
import { RedisStore } from '../cache/redis-store.ts'
import { RedisWebhookStore } from './redis-store.ts'
import { createSender } from './sender.ts'
import { DeliveryWorker, type WorkerLogger } from './worker.ts'

export type WebhookLogger = WorkerLogger

export interface WebhookDeps {
  redisUrl: string
  /** REDIS_CLUSTER: read a redis:// URL as a cluster seed (redis+cluster:// needs no flag). */
  redisCluster?: boolean
  secret: Buffer
  settings: WebhookSettings
  authenticate: Authenticate
  /** Each token id revoked on this instance (the fan-out stops trusting its cached authentication). */
  onRevoked?: (listener: (tokenId: string) => void) => () => void
  /** The event bus (every instance sees every event); null: only test events are delivered. */
  bus: EventBus | null
  /** The watchers; null: nothing keeps webhook accounts watched. */
  watching: Watching | null
  /** Leases shared by the deployment; default: leases in this Redis. */
  leases?: Leases
  logger: WebhookLogger
  metrics?: MetricsPort
  /** DNS for the URL checks (tests map names to addresses). */
  lookup?: (host: string) => Promise<Array<{ address: string, family: number }>>
  /** Re-read registrations this often (ms); default 5 000. */
  syncMs?: number
  /** Look for due queues this often (ms); default 250. */
  pollMs?: number
}

export interface WebhookRuntime {
  api: Webhooks
  store: RedisWebhookStore
  fanout: WebhookFanout
  close: () => Promise<void>
}

/** The guard's refusal, worded for a webhook URL (its detail names the host, never the URL's path or query). */
function urlGuard (guard: HostGuard): (url: URL) => Promise<void> {
  return async (url) => {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
    try {
      await guard(host)
    } catch (err) {
      if (err instanceof GatewayError && err.code === 'host-not-allowed') throw new GatewayError('host-not-allowed', `webhook host ${host} is not allowed by this gateway`)
      throw err
    }
  }
}

export function createWebhooks (deps: WebhookDeps): WebhookRuntime {
  const { settings } = deps
  const metrics = deps.metrics ?? noMetrics
  const client = connectRedis(deps.redisUrl, deps.redisCluster === true,
    { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 5000, connectionName: 'mail-gateway-webhooks' })
  // listener first: an unhandled 'error' event would crash the process
  let lastWarn = 0
  client.on('error', (err: unknown) => {
    if (Date.now() - lastWarn < 30_000) return
    lastWarn = Date.now()
    deps.logger.warn({ err }, 'webhooks: redis connection error')
  })
  client.connect().catch(() => {})
  const guard = createHostGuard(settings.allowedHosts, deps.lookup ?? ((h) => dnsLookup(h, { all: true, verbatim: true })))
  const store = new RedisWebhookStore(client, deps.secret)
  // the deployment's leases (src/compose.ts passes the cache's); else leases over a store of our own
  const leaseStore = deps.leases === undefined ? new RedisStore({ url: deps.redisUrl, cluster: deps.redisCluster === true, logger: deps.logger }) : null
  const leases = deps.leases ?? new RedisLeases(leaseStore!, deps.secret)
  const policy = { ...DEFAULT_RETRY, baseMs: settings.retryBaseMs, windowMs: settings.retryWindowMs }
  const sender = createSender(guard, settings.timeoutMs)
  const worker = new DeliveryWorker({
    store,
    leases,
    sender,
    authenticate: deps.authenticate,
    policy,
    concurrency: settings.concurrency,
    pollMs: deps.pollMs ?? 250,
    leaseMs: settings.timeoutMs * 2 + 10_000,
    logger: deps.logger,
    metrics,
  })
  const fanout = new WebhookFanout({
    store,
    bus: deps.bus,
    watching: deps.watching,
    leases,
    authenticate: deps.authenticate,
    ...(deps.onRevoked === undefined ? {} : { onRevoked: deps.onRevoked }),
    syncMs: deps.syncMs ?? 5000,
    leaseMs: 30_000,
    logger: deps.logger,
  })
  const api = new Webhooks(store, urlGuard(guard), { maxPerAccount: settings.maxPerAccount, allowHttp: settings.allowHttp }, () => { fanout.sync() })
  worker.start()
  fanout.start()
  return {
    api,
    store,
    fanout,
    close: async () => {
      await fanout.close()
      await worker.close()
      sender.close()
      await leaseStore?.close()
      client.disconnect()
    },
  }
}
