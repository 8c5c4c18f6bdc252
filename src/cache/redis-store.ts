/**
 * Redis CacheStore (ioredis 6). Tuned for a cache that may vanish: no offline
 * queue, no per-command retries, short command and connect timeouts, so a
 * Redis outage costs a request nothing but a miss; reconnects forever with a
 * capped backoff, so it recovers by itself.
 */
import { Cluster, Redis } from 'ioredis'
import type { ClusterOptions, RedisOptions } from 'ioredis'
import { normaliseTtl, rateLimitedWarn, silentLogger } from './cache.ts'
import type { CacheLogger, CacheStatus, CacheStore } from './cache.ts'
import { parseRedisTarget, type RedisTarget } from './redis-target.ts'

export interface RedisStoreOptions {
  /** redis://… for one server, redis+cluster://host:port[,host:port…] for a cluster (redis-target.ts). */
  url: string
  /** Read a redis:// URL as a cluster seed (REDIS_CLUSTER=true). */
  cluster?: boolean
  logger?: CacheLogger
  /** Per-command timeout (ms). Default 300. */
  commandTimeoutMs?: number
  /** TCP + handshake timeout (ms). Default 1000. */
  connectTimeoutMs?: number
  /** Reconnect backoff cap (ms). Default 2000. */
  maxBackoffMs?: number
  /** After a command timeout, skip Redis for this long (ms) so a frozen server costs nothing. Default 1000. */
  breakerMs?: number
}

export function redisClientOptions (opts: RedisStoreOptions): RedisOptions {
  const cap = opts.maxBackoffMs ?? 2000
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: opts.commandTimeoutMs ?? 300,
    connectTimeout: opts.connectTimeoutMs ?? 1000,
    lazyConnect: false,
    enableReadyCheck: true,
    autoResubscribe: false,
    connectionName: 'mail-gateway-cache',
    // Commands issued in the same tick (concurrent requests) go out in one write.
    enableAutoPipelining: true,
    // Never give up: capped exponential backoff with jitter.
    retryStrategy: (times: number) => Math.min(cap, 50 * 2 ** Math.min(times, 10)) + Math.floor(Math.random() * 100),
  }
}

/** The same tuning for a cluster: per node, and for the cluster's own offline queue and reconnects. */
export function clusterClientOptions (opts: RedisStoreOptions, target: Extract<RedisTarget, { kind: 'cluster' }>): ClusterOptions {
  const { enableOfflineQueue, retryStrategy, lazyConnect, enableAutoPipelining, ...node } = redisClientOptions(opts)
  return {
    enableOfflineQueue,
    enableReadyCheck: true,
    enableAutoPipelining,
    lazyConnect,
    scaleReads: 'master',
    clusterRetryStrategy: retryStrategy,
    slotsRefreshTimeout: opts.connectTimeoutMs ?? 1000,
    redisOptions: {
      ...node,
      ...(target.username !== undefined ? { username: target.username } : {}),
      ...(target.password !== undefined ? { password: target.password } : {}),
      ...(target.tls ? { tls: {} } : {}),
    },
  }
}

/**
 * A client for what the URL names. A Cluster is typed as Redis here: both
 * offer the same per-key commands (and defineCommand, multi), which is all the
 * stores use; what only a cluster has is reached through `clusterOf`.
 */
export function createRedisClient (opts: RedisStoreOptions): Redis {
  const target = parseRedisTarget(opts.url, opts.cluster === true)
  if (target.kind === 'single') return new Redis(target.url, redisClientOptions(opts))
  return new Cluster(target.seeds, clusterClientOptions(opts, target)) as unknown as Redis
}

/** The Cluster behind a client from createRedisClient, or null for one server. */
export function clusterOf (client: Redis): Cluster | null {
  return (client as unknown) instanceof Cluster ? client as unknown as Cluster : null
}

/** One instance: during an outage every call fails with it, no stack captured per call. */
const NOT_CONNECTED = new Error('redis is not connected (or inside the breaker window)')

export class RedisStore implements CacheStore {
  readonly client: Redis
  readonly #warn: (event: string, err: unknown) => void
  readonly #logger: CacheLogger
  readonly #breakerMs: number
  readonly #handshakeMs: number
  readonly #watchdog: NodeJS.Timeout
  #failing = false
  #skipUntil = 0
  #wasReady = false
  #closed = false
  #probing = false
  #lastForcedReconnect = 0
  /** Since when the client has been in 'connect' (TCP up, handshake pending); 0 = not. */
  #handshakeSince = 0
  /**
   * Settles at the first connection, or once the handshake bound has passed
   * since the store was made: a command made while the process is starting
   * waits for it rather than being refused (503 for durable state) in the
   * moments the connection takes. Later outages fail at once.
   */
  readonly #started: Promise<void>

  constructor (opts: RedisStoreOptions) {
    this.#logger = opts.logger ?? silentLogger
    this.#warn = rateLimitedWarn(this.#logger)
    this.#breakerMs = opts.breakerMs ?? 1000
    this.#handshakeMs = 3 * (opts.connectTimeoutMs ?? 1000)
    this.client = createRedisClient(opts)
    // Listener first: an unhandled 'error' event would crash the process.
    this.client.on('error', (err: unknown) => { this.#warn('redis connection error', err) })
    this.client.on('connect', () => { this.#handshakeSince = Date.now() })
    this.client.on('ready', () => {
      if (this.#wasReady) this.#logger.info({ event: 'redis ready' }, 'cache: redis connection restored')
      this.#wasReady = true
      this.#failing = false
      this.#skipUntil = 0
      this.#handshakeSince = 0
    })
    this.client.on('close', () => { this.#handshakeSince = 0 })
    this.#started = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.#handshakeMs)
      timer.unref()
      this.client.once('ready', () => { clearTimeout(timer); resolve() })
    })
    this.#watchdog = setInterval(() => { this.#tick() }, 500)
    this.#watchdog.unref()
  }

  async get (key: string): Promise<Buffer | null> {
    return await this.#attempt('redis get failed', c => c.getBuffer(key)).catch(() => null)
  }

  async set (key: string, value: Buffer, ttlSeconds: number): Promise<void> {
    await this.#attempt('redis set failed', c => c.set(key, value, 'EX', normaliseTtl(ttlSeconds))).catch(() => {})
  }

  async del (key: string): Promise<void> {
    await this.#attempt('redis del failed', c => c.unlink(key)).catch(() => {})
  }

  /**
   * A command whose failure the caller must know about (durable state such as
   * revocations): it rejects where the cache calls above read a miss. Failures
   * count for status() and the breaker like any other call, and are logged the
   * same rate-limited way.
   */
  async strict<T> (event: string, command: (client: Redis) => Promise<T>): Promise<T> {
    if (!this.#usable()) await this.#started
    return await this.#attempt(event, command)
  }

  /** One command now, or NOT_CONNECTED: a cache read or write, whose failure is a miss. */
  async #attempt<T> (event: string, command: (client: Redis) => Promise<T>): Promise<T> {
    if (!this.#usable()) throw NOT_CONNECTED
    try {
      const value = await command(this.client)
      this.#ok()
      return value
    } catch (err) {
      this.#fail(event, err)
      throw err
    }
  }

  status (): CacheStatus {
    const healthy = this.client.status === 'ready' && !this.#failing && Date.now() >= this.#skipUntil
    return { backend: 'redis', status: healthy ? 'ok' : 'degraded' }
  }

  async close (): Promise<void> {
    this.#closed = true
    clearInterval(this.#watchdog)
    if (this.client.status === 'ready') {
      const timer = new Promise(resolve => setTimeout(resolve, 500).unref())
      await Promise.race([this.client.quit().catch(() => {}), timer])
    }
    this.client.disconnect(false)
  }

  /** Not connected (fails instantly anyway) or inside the breaker window → skip. */
  #usable (): boolean {
    return !this.#closed && this.client.status === 'ready' && Date.now() >= this.#skipUntil
  }

  /**
   * Self-healing without traffic: a PING after failures decides whether Redis
   * is back; a handshake that never completes (ioredis has no timeout for the
   * ready check) is cut and retried.
   */
  #tick (): void {
    if (this.#closed) return
    if (this.#handshakeSince !== 0 && this.client.status === 'connect' &&
        Date.now() - this.#handshakeSince > this.#handshakeMs) {
      this.#handshakeSince = 0
      this.#warn('redis handshake timed out', new Error('no reply to the connection handshake'))
      this.client.disconnect(true)
      return
    }
    if (!this.#failing || this.#probing || !this.#usable()) return
    this.#probing = true
    this.client.ping().then(() => { this.#ok() }, (err: unknown) => { this.#fail('redis ping failed', err) })
      .finally(() => { this.#probing = false })
  }

  #ok (): void {
    this.#failing = false
  }

  #fail (event: string, err: unknown): void {
    this.#failing = true
    this.#warn(event, err)
    if (!(err instanceof Error && /timed out/i.test(err.message))) return
    // A timed-out command may never be answered: skip Redis for a moment and
    // start a fresh connection, so the old one's reply queue cannot wedge us.
    const now = Date.now()
    this.#skipUntil = now + this.#breakerMs
    if (now - this.#lastForcedReconnect > this.#breakerMs) {
      this.#lastForcedReconnect = now
      this.client.disconnect(true)
    }
  }
}
