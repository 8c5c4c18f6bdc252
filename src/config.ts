/**
 * Configuration from environment variables (README "Configuration").
 * Parsed once at start-up; invalid values stop the process with a clear message.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { DEFAULT_LOGIN_BUDGET } from './backends/login-budget.ts'
import { DEFAULT_MAX_AGE_MS } from './backends/imap/connections.ts'
import { DEFAULT_RESPONSE_BUDGET_BYTES } from './graphql/body-allowance.ts'
import { DEFAULT_LIMITS } from './graphql/limits.ts'
import { DEFAULT_LOGIN_THROTTLE } from './mail/login-throttle.ts'
import { WATCH_DEFAULTS } from './mail/watchers.ts'
import { DEFAULT_SEND_LIMITS } from './mail/sending.ts'
import { parseCorsOrigins } from './http/cors.ts'
import { parseRedisTarget } from './cache/redis-target.ts'
import { checkCaBundle } from './net/tls-trust.ts'
import { DEFAULT_PARSE_BUDGET_BYTES } from './util/byte-budget.ts'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export interface Config {
  port: number
  host: string
  logLevel: string
  redisUrl: string | null
  /** REDIS_CLUSTER=true: REDIS_URL (redis:// or rediss://) is a Redis Cluster seed; redis+cluster:// URLs need no flag. */
  redisCluster: boolean
  /** Key material for token sealing and cache encryption. */
  secret: Buffer
  secretIsRandom: boolean
  sessionTtlMax: number
  /** Raw MAIL_ALLOWED_HOSTS list; null = any public address. */
  allowedHosts: string[] | null
  tlsCa: Buffer | null
  bodyLimit: number
  /** Largest message an APPEND accepts (APPEND_LIMIT, octets; default 25 MiB). */
  appendLimit: number
  /** Sending (contract §10): largest message (SEND_LIMIT, octets), recipients per message, messages per account and minute (0: unlimited). */
  sendLimit: number
  sendMaxRecipients: number
  sendRatePerMinute: number
  imapMaxPerAccount: number
  imapMaxTotal: number
  /** A pooled IMAP connection or a POP3 session logs in again after this long (ms). */
  connectionMaxAgeMs: number
  /** Connect, greeting and per-command timeout for mail servers (ms). */
  upstreamTimeoutMs: number
  /** How stale mutable cached state (flags, counts, lists) may be (ms). */
  cacheMaxStalenessMs: number
  /** In-process cache bound (bytes). */
  memoryCacheBytes: number
  /** Message octets read and parsed at once, process-wide (bytes, ≥ 1 MiB). */
  parseBudgetBytes: number
  /** Parse worker threads (0: parse on the main thread). */
  parseWorkers: number
  /** Messages held whole and shorter than this are parsed on the main thread. */
  parseWorkerMinBytes: number
  /** Message body JSON held by GraphQL responses at once, process-wide (bytes, ≥ 1 MiB). */
  responseBudgetBytes: number
  graphiql: boolean
  /** GraphQL query limits (defaults: src/graphql/limits.ts DEFAULT_LIMITS). */
  graphqlMaxDepth: number
  graphqlMaxCost: number
  rateLimitPerMinute: number | null
  /** Login throttle (on by default; 0 turns a key off): attempts per client address and per account per window. */
  loginRatePerClient: number
  loginRatePerAccount: number
  loginRateWindowMs: number
  /** Logins for new sessions in flight: per client address, per mail host, in total. */
  loginConcurrencyPerClient: number
  loginConcurrencyPerHost: number
  loginConcurrency: number
  /** Bearer token for GET /metrics on the gateway's port; null: not served there. */
  metricsToken: string | null
  /** Port of a second listener on `host` serving only /metrics, without a token; null: none. */
  metricsPort: number | null
  /** On SIGTERM, how long requests in flight may run before their connections are closed (ms). */
  shutdownGraceMs: number
  /** GraphQL requests without a valid token per client address and minute; 0 = unlimited. */
  graphqlAnonymousPerMinute: number
  /** Event streams (GET /v1/events): heartbeat comment interval (ms, ≤ 20 s). */
  eventsHeartbeatMs: number
  /** Open event streams on this instance (429 beyond). */
  eventsMaxStreams: number
  /** Bytes of events one stream may have waiting on a slow client before it is closed. */
  eventsStreamBufferBytes: number
  /** CORS_ORIGINS: browser origins allowed to call the gateway ('*': any); null = CORS off. */
  corsOrigins: string[] | '*' | null
  /** Watchers (docs/watchers.md): accounts watched by this instance at once; more → 429. */
  watchMaxAccounts: number
  /** IMAP mailboxes other than INBOX are polled this often (ms). */
  watchPollMs: number
  /** POP3 maildrops are polled this often (ms; never faster than the server's LOGIN-DELAY). */
  pop3PollMs: number
  /** A watcher outlives its last subscriber this long (ms, ≤ 60 000). */
  watchGraceMs: number
  /** Event subscribers (SSE streams and GraphQL subscriptions together) per token on one instance. */
  eventsSubscribersPerToken: number
  /** Open GraphQL WebSockets (subscriptions) on one instance. */
  graphqlWsMaxConnections: number
  /** Webhooks (contract §9; they need REDIS_URL). */
  webhooks: WebhookSettings
}

export interface WebhookSettings {
  /** Raw WEBHOOK_ALLOWED_HOSTS list (host-guard syntax); null = any public address. */
  allowedHosts: string[] | null
  /** WEBHOOK_ALLOW_HTTP: http:// targets accepted too; else https only. */
  allowHttp: boolean
  /** First retry delay (ms), doubling up to 1 h. */
  retryBaseMs: number
  /** How long a delivery is retried before it is dropped and counted (ms; default 24 h). */
  retryWindowMs: number
  maxPerAccount: number
  /** Webhooks one instance delivers to at once. */
  concurrency: number
  /** One delivery's whole exchange (ms). */
  timeoutMs: number
}

function int (env: NodeJS.ProcessEnv, name: string, def: number, min = 0): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return def
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${raw}"`)
  return n
}

function intAtMost (env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const n = int(env, name, def, min)
  if (n > max) throw new Error(`${name} must be at most ${max}, got ${n}`)
  return n
}

function bytes (env: NodeJS.ProcessEnv, name: string, def: number, min = 0): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return def
  const m = /^(\d+)\s*(b|kb|mb|gb)?$/i.exec(raw.trim())
  if (m === null) throw new Error(`${name} must be a size like 1048576 or 1MB, got "${raw}"`)
  const unit = (m[2] ?? 'b').toLowerCase()
  const mult = unit === 'gb' ? 1024 ** 3 : unit === 'mb' ? 1024 ** 2 : unit === 'kb' ? 1024 : 1
  const n = Number(m[1]) * mult
  if (n < min) throw new Error(`${name} must be at least ${min} bytes, got ${n}`)
  return n
}

export function loadConfig (env: NodeJS.ProcessEnv = process.env): Config {
  const production = env.NODE_ENV === 'production'
  const logLevel = env.LOG_LEVEL ?? 'info'
  if (!LOG_LEVELS.includes(logLevel)) throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`)
  const secretRaw = env.GATEWAY_SECRET
  if (secretRaw !== undefined && secretRaw !== '' && secretRaw.length < 16) {
    throw new Error('GATEWAY_SECRET must be at least 16 characters')
  }
  const hosts = env.MAIL_ALLOWED_HOSTS?.split(',').map(s => s.trim()).filter(Boolean)
  return {
    port: int(env, 'PORT', 3000),
    host: env.HOST ?? '0.0.0.0',
    logLevel,
    redisUrl: redisUrl(env),
    redisCluster: bool(env, 'REDIS_CLUSTER'),
    secret: secretRaw ? Buffer.from(secretRaw, 'utf8') : randomBytes(32),
    secretIsRandom: !secretRaw,
    sessionTtlMax: int(env, 'SESSION_TTL_MAX', 86400, 1),
    allowedHosts: hosts === undefined || hosts.length === 0 ? null : hosts,
    tlsCa: env.MAIL_TLS_CA_FILE ? caBundle(env.MAIL_TLS_CA_FILE) : null,
    bodyLimit: bytes(env, 'BODY_LIMIT', 1024 * 1024),
    appendLimit: bytes(env, 'APPEND_LIMIT', 25 * 1024 * 1024, 1),
    sendLimit: bytes(env, 'SEND_LIMIT', DEFAULT_SEND_LIMITS.maxBytes, 1),
    sendMaxRecipients: int(env, 'SEND_MAX_RECIPIENTS', DEFAULT_SEND_LIMITS.maxRecipients, 1),
    sendRatePerMinute: int(env, 'SEND_RATE_PER_MINUTE', DEFAULT_SEND_LIMITS.perMinute),
    imapMaxPerAccount: int(env, 'IMAP_MAX_CONNECTIONS_PER_ACCOUNT', 3, 1),
    imapMaxTotal: int(env, 'IMAP_MAX_CONNECTIONS', 200, 1),
    connectionMaxAgeMs: int(env, 'CONNECTION_MAX_AGE_MS', DEFAULT_MAX_AGE_MS, 1000),
    upstreamTimeoutMs: int(env, 'UPSTREAM_TIMEOUT_MS', 15000, 100),
    cacheMaxStalenessMs: int(env, 'CACHE_MAX_STALENESS_MS', 2000, 0),
    memoryCacheBytes: bytes(env, 'MEMORY_CACHE_BYTES', 128 * 1024 * 1024),
    parseBudgetBytes: bytes(env, 'PARSE_BUDGET_BYTES', DEFAULT_PARSE_BUDGET_BYTES, 1024 * 1024),
    // inline by default: a worker's heap and the copies it hands back cost 40-60 MB of peak RSS
    // under the amplifier test, past the 200 MB bound (docs/performance.md)
    parseWorkers: int(env, 'PARSE_WORKERS', 0),
    parseWorkerMinBytes: bytes(env, 'PARSE_WORKER_MIN_BYTES', 0),
    responseBudgetBytes: bytes(env, 'RESPONSE_BUDGET_BYTES', DEFAULT_RESPONSE_BUDGET_BYTES, 1024 * 1024),
    graphiql: env.GRAPHIQL === undefined ? !production : env.GRAPHIQL === 'true',
    graphqlMaxDepth: int(env, 'GRAPHQL_MAX_DEPTH', DEFAULT_LIMITS.maxDepth, 1),
    graphqlMaxCost: int(env, 'GRAPHQL_MAX_COST', DEFAULT_LIMITS.maxCost, 1),
    rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE ? int(env, 'RATE_LIMIT_PER_MINUTE', 0, 1) : null,
    loginRatePerClient: int(env, 'LOGIN_RATE_PER_CLIENT', DEFAULT_LOGIN_THROTTLE.perClient),
    loginRatePerAccount: int(env, 'LOGIN_RATE_PER_ACCOUNT', DEFAULT_LOGIN_THROTTLE.perAccount),
    loginRateWindowMs: int(env, 'LOGIN_RATE_WINDOW_SECONDS', DEFAULT_LOGIN_THROTTLE.windowMs / 1000, 1) * 1000,
    loginConcurrencyPerClient: int(env, 'LOGIN_CONCURRENCY_PER_CLIENT', DEFAULT_LOGIN_BUDGET.perClient, 1),
    loginConcurrencyPerHost: int(env, 'LOGIN_CONCURRENCY_PER_HOST', DEFAULT_LOGIN_BUDGET.perHost, 1),
    loginConcurrency: int(env, 'LOGIN_CONCURRENCY', DEFAULT_LOGIN_BUDGET.total, 1),
    metricsToken: metricsToken(env.METRICS_TOKEN),
    metricsPort: env.METRICS_PORT ? int(env, 'METRICS_PORT', 0, 0) : null,
    shutdownGraceMs: int(env, 'SHUTDOWN_GRACE_MS', 8000, 0),
    graphqlAnonymousPerMinute: int(env, 'GRAPHQL_ANONYMOUS_PER_MINUTE', 120),
    corsOrigins: parseCorsOrigins(env.CORS_ORIGINS),
    watchMaxAccounts: int(env, 'WATCH_MAX_ACCOUNTS', WATCH_DEFAULTS.maxAccounts, 1),
    watchPollMs: int(env, 'WATCH_POLL_MS', WATCH_DEFAULTS.pollMs, 1000),
    pop3PollMs: int(env, 'POP3_POLL_MS', WATCH_DEFAULTS.pop3PollMs, 1000),
    watchGraceMs: atMost(int(env, 'WATCH_GRACE_MS', WATCH_DEFAULTS.graceMs), 60_000, 'WATCH_GRACE_MS'),
    eventsSubscribersPerToken: int(env, 'EVENTS_SUBSCRIBERS_PER_TOKEN', 10, 1),
    graphqlWsMaxConnections: int(env, 'GRAPHQL_WS_MAX_CONNECTIONS', 1000, 1),
    eventsHeartbeatMs: intAtMost(env, 'EVENTS_HEARTBEAT_MS', 15_000, 10, 20_000),
    eventsMaxStreams: int(env, 'EVENTS_MAX_STREAMS', 10_000, 1),
    eventsStreamBufferBytes: bytes(env, 'EVENTS_STREAM_BUFFER_BYTES', 256 * 1024, 1024),
    webhooks: webhookSettings(env),
  }
}

function hostList (raw: string | undefined): string[] | null {
  const hosts = raw?.split(',').map(s => s.trim()).filter(Boolean)
  return hosts === undefined || hosts.length === 0 ? null : hosts
}

function webhookSettings (env: NodeJS.ProcessEnv): WebhookSettings {
  return {
    allowedHosts: hostList(env.WEBHOOK_ALLOWED_HOSTS),
    allowHttp: bool(env, 'WEBHOOK_ALLOW_HTTP'),
    retryBaseMs: int(env, 'WEBHOOK_RETRY_BASE_MS', 5000, 10),
    retryWindowMs: int(env, 'WEBHOOK_RETRY_WINDOW_MS', 24 * 3_600_000, 1000),
    maxPerAccount: int(env, 'WEBHOOK_MAX_PER_ACCOUNT', 10, 1),
    concurrency: int(env, 'WEBHOOK_CONCURRENCY', 16, 1),
    timeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 15000, 100),
  }
}

function bool (env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name]
  if (raw === undefined || raw === '' || raw === 'false') return false
  if (raw === 'true') return true
  throw new Error(`${name} must be true or false, got "${raw}"`)
}

/** Checked here (syntax, cluster seeds) so a bad URL stops the start, not the first request. */
function redisUrl (env: NodeJS.ProcessEnv): string | null {
  const url = env.REDIS_URL
  if (url === undefined || url === '') return null
  parseRedisTarget(url, bool(env, 'REDIS_CLUSTER'))
  return url
}

function atMost (n: number, max: number, name: string): number {
  if (n > max) throw new Error(`${name} must be at most ${max}, got ${n}`)
  return n
}

function metricsToken (raw: string | undefined): string | null {
  if (raw === undefined || raw === '') return null
  if (raw.length < 16 || !/^[A-Za-z0-9\-._~+/]+=*$/.test(raw)) {
    throw new Error('METRICS_TOKEN must be at least 16 characters of A–Z, a–z, 0–9 and -._~+/ (a bearer token)')
  }
  return raw
}

function caBundle (path: string): Buffer {
  const bundle = readFileSync(path)
  checkCaBundle(bundle, `MAIL_TLS_CA_FILE (${path})`)
  return bundle
}
