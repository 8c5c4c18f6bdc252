/**
 * Composition root: the only module that knows every concrete piece.
 * config → host guard, cache, IMAP and POP3 backends → MailService.
 */
import type { Logger } from 'pino'
import { createImapBackend } from './backends/imap/index.ts'
import { LoginBudget } from './backends/login-budget.ts'
import { createPop3Backend } from './backends/pop3/index.ts'
import { createSmtpSender } from './backends/smtp/index.ts'
import { createCache, type Cache } from './cache/index.ts'
import { RedisEventBus } from './events/redis-bus.ts'
import { MemoryTicketStore } from './events/tickets.ts'
import type { Config } from './config.ts'
import { MemoryEventBus } from './events/memory-bus.ts'
import type { EventBus } from './mail/events.ts'
import type { Watching } from './mail/watch-port.ts'
import { extractPart } from './mail/normalise/index.ts'
import { LoginThrottle } from './mail/login-throttle.ts'
import { MailService } from './mail/service.ts'
import { loginObservers, registerSampled } from './metrics/gateway-metrics.ts'
import { noMetrics, type MetricsPort } from './metrics/port.ts'
import { createHostGuard } from './net/host-guard.ts'
import { AttemptBuckets } from './util/attempt-buckets.ts'
import type { Leases } from './mail/lease-port.ts'
import { createWebhooks, type WebhookRuntime } from './webhooks/index.ts'
import { ByteBudget } from './util/byte-budget.ts'
import { configureParsing } from './mail/parse-pool/index.ts'
import { operationTimeoutMs } from './util/operation-timeout.ts'

/** The cache and the state instances share (Redis when REDIS_URL is set); closed with the service. */
export function createSharedState (config: Config, logger: Logger): Cache {
  return createCache({
    redisUrl: config.redisUrl,
    redisCluster: config.redisCluster,
    secret: config.secret,
    memoryBytes: config.memoryCacheBytes,
    logger: logger.child({ component: 'cache' }),
  })
}

export function createService (config: Config, logger: Logger, metrics: MetricsPort = noMetrics,
  cache: Cache = createSharedState(config, logger)): MailService {
  const guard = createHostGuard(config.allowedHosts)
  // one budget for both protocols: it bounds the process, not a backend; a read
  // waits for it (holding no connection) as long as one operation may take
  const parseBudget = new ByteBudget(config.parseBudgetBytes, { maxWaitMs: operationTimeoutMs(config.upstreamTimeoutMs) })
  // MIME parsing on worker threads (process-wide, like the budget); a parse gets the operation's time
  configureParsing({
    workers: config.parseWorkers,
    minBytes: config.parseWorkerMinBytes,
    deadlineMs: operationTimeoutMs(config.upstreamTimeoutMs),
    onLost: (reason) => { logger.warn({ component: 'parse', event: 'parse worker replaced', reason }, 'parse: a worker was replaced') },
  })
  // logins for new sessions, both protocols: they hold this budget, never pool slots or a maildrop's queue
  const loginBudget = new LoginBudget({
    perClient: config.loginConcurrencyPerClient,
    perHost: config.loginConcurrencyPerHost,
    total: config.loginConcurrency,
    waitMs: config.upstreamTimeoutMs,
  })
  const onLogin = loginObservers(metrics)
  const gate = cache.connectionSlots(config.imapMaxPerAccount)
  const imap = createImapBackend({
    guard,
    tlsCa: config.tlsCa,
    timeoutMs: config.upstreamTimeoutMs,
    maxPerAccount: config.imapMaxPerAccount,
    // with Redis the cap counts every instance's connections (only opening and closing one asks Redis)
    ...(gate !== null ? { gate } : {}),
    maxTotal: config.imapMaxTotal,
    maxAgeMs: config.connectionMaxAgeMs,
    parseBudget,
    loginBudget,
    onLogin: onLogin.imap,
    logger: logger.child({ component: 'imap' }),
  })
  const pop3 = createPop3Backend({
    guard,
    tlsCa: config.tlsCa,
    timeoutMs: config.upstreamTimeoutMs,
    maxLifeMs: config.connectionMaxAgeMs,
    parseBudget,
    loginBudget,
    onLogin: onLogin.pop3,
    logger: logger.child({ component: 'pop3' }),
  })
  // the bus the watchers publish on and the event faces read (in-process; a Redis bus shares it between instances)
  const events: EventBus = config.redisUrl === null
    ? new MemoryEventBus()
    : new RedisEventBus({ url: config.redisUrl, cluster: config.redisCluster, secret: config.secret, logger: logger.child({ component: 'events' }) })
  const service = new MailService({
    backends: { imap, pop3 },
    cache: { forAccount: (id) => cache.sealed.forAccount(id), status: () => cache.status() },
    revocations: cache.revocations,
    sharedIdempotency: cache.idempotency,
    secret: config.secret,
    sessionTtlMax: config.sessionTtlMax,
    stalenessMs: config.cacheMaxStalenessMs,
    extractPart,
    // in process memory: each instance counts on its own (a Redis AttemptCounter can share it)
    loginThrottle: new LoginThrottle(new AttemptBuckets(), {
      perClient: config.loginRatePerClient,
      perAccount: config.loginRatePerAccount,
      windowMs: config.loginRateWindowMs,
    }),
    appendLimit: config.appendLimit,
    sender: createSmtpSender({ guard, tlsCa: config.tlsCa, timeoutMs: config.upstreamTimeoutMs, logger: logger.child({ component: 'smtp' }) }),
    sendLimits: { maxBytes: config.sendLimit, maxRecipients: config.sendMaxRecipients, perMinute: config.sendRatePerMinute },
    // with Redis one budget per account for the deployment
    sendRate: cache.sendRate(config.sendRatePerMinute),
    onClose: () => cache.close(),
    tickets: cache.tickets ?? new MemoryTicketStore(),
    watch: {
      bus: events,
      leases: cache.leases,
      maxAccounts: config.watchMaxAccounts,
      pollMs: config.watchPollMs,
      pop3PollMs: config.pop3PollMs,
      graceMs: config.watchGraceMs,
      log: logger.child({ component: 'watch' }),
    },
  })
  registerSampled(metrics, {
    connections: () => ({ imap: imap.stats().total, pop3: pop3.openSessions() }),
    reader: () => service.readerStats(),
    budget: () => parseBudget.stats(),
  })
  realtimeParts.set(service, { bus: events, watching: service.watching, leases: cache.leases })
  return service
}

/**
 * What the event faces (GraphQL subscriptions) read: the bus the watchers
 * publish on, and the service's watching, which keeps an account watched
 * while a subscriber holds a handle.
 */
export function createRealtime (service: MailService): { bus: EventBus, watching: Watching } | undefined {
  return service.events === null ? undefined : { bus: service.events, watching: service.watching }
}

/** The real-time pieces createService composed, for createWebhookRuntime. */
const realtimeParts = new WeakMap<MailService, RealtimeParts>()

/** What webhooks take from the real-time pieces (the event bus, the watchers, the deployment's leases). */
export interface RealtimeParts {
  bus: EventBus | null
  watching: Watching | null
  leases?: Leases
}

/** Webhooks (contract §9) need Redis: null without REDIS_URL (the routes answer 422). */
export function createWebhookRuntime (config: Config, service: MailService, logger: Logger, metrics: MetricsPort = noMetrics,
  realtime: RealtimeParts = realtimeParts.get(service) ?? { bus: null, watching: null }): WebhookRuntime | null {
  if (config.redisUrl === null) return null
  const log = logger.child({ component: 'webhooks' })
  if (realtime.bus === null) log.warn('webhooks: no event bus is wired; only test events are delivered')
  return createWebhooks({
    redisUrl: config.redisUrl,
    redisCluster: config.redisCluster,
    secret: config.secret,
    settings: config.webhooks,
    authenticate: (token) => service.authenticate(token),
    onRevoked: (listener) => service.onRevoked(listener),
    ...realtime,
    logger: log,
    metrics,
  })
}
