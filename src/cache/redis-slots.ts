/**
 * Deployment-wide connection slots per account (IMAP_MAX_CONNECTIONS_PER_ACCOUNT
 * counted across instances): a counting semaphore in Redis with expiring holders.
 *
 *   mg:v1:{<account tag>}:conns          sorted set: member = "<instance>:<n>", score = deadline (Redis ms)
 *   mg:v1:{<account tag>}:conns-wanted   string, PX 1 s: an instance was refused lately
 *   channel mg:v1:conns                  "want:<tag>" / "free:<tag>"
 *
 * - take: one script prunes holders past their deadline (on Redis's clock),
 *   adds one when fewer than `limit` remain, else marks the account wanted and
 *   (once a second) publishes "want", so holders close an idle connection.
 * - Held slots are renewed together every ttl/3 (one script per account), so
 *   the slots of an instance that died free themselves within the ttl.
 * - give back: ZREM, and "free" is published while someone is waiting.
 * - Only opening and closing a connection talks to Redis; a pooled reuse does
 *   not. When Redis cannot be reached, take grants (each instance's own cap
 *   still holds) and the failure is logged by the store.
 * Both keys of an account share its hash tag: one slot per script.
 */
import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import type { CacheLogger } from './cache.ts'
import { silentLogger } from './cache.ts'
import { accountTag, KEY_PREFIX, KEY_VERSION } from './keys.ts'
import { withScripts } from './redis-scripts.ts'
import type { RedisStore } from './redis-store.ts'

export const SLOTS_CHANNEL = `${KEY_PREFIX}:${KEY_VERSION}:conns`

const NOW = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`
/** KEYS: set, wanted. ARGV: member, limit, ttl ms, channel, tag. */
const TAKE = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', 1000) then redis.call('PUBLISH', ARGV[4], 'want:' .. ARGV[5]) end
return 0
`
/** KEYS: set. ARGV: ttl ms, members… (what this instance still holds: kept even if pruned meanwhile). */
const RENEW = `${NOW}
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`
/** KEYS: set, wanted. ARGV: member, channel, tag. */
const GIVE = `
redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PUBLISH', ARGV[2], 'free:' .. ARGV[3]) end
return 1
`

interface SlotCommands {
  mgSlotTake: (set: string, wanted: string, member: string, limit: number, ttlMs: number, channel: string, tag: string) => Promise<number>
  mgSlotRenew: (set: string, ttlMs: number, ...members: string[]) => Promise<number>
  mgSlotGive: (set: string, wanted: string, member: string, channel: string, tag: string) => Promise<number>
}

const SCRIPTS = {
  mgSlotTake: { numberOfKeys: 2, lua: TAKE },
  mgSlotRenew: { numberOfKeys: 1, lua: RENEW },
  mgSlotGive: { numberOfKeys: 2, lua: GIVE },
} as const

function withCommands (client: Redis): Redis & SlotCommands {
  return withScripts<SlotCommands>(client, SCRIPTS)
}

export interface RedisSlotsOptions {
  /** Slots per account in the deployment (IMAP_MAX_CONNECTIONS_PER_ACCOUNT). */
  limit: number
  /** A holder not renewed for this long is gone (ms; default 15 000). */
  ttlMs?: number
  logger?: CacheLogger
}

interface Account { group: string, set: string, wanted: string, tag: string }

/** Implements the pool's GroupGate (src/pool/types.ts) for IMAP connections. */
export class RedisSlots {
  readonly #store: RedisStore
  readonly #secret: Buffer
  readonly #limit: number
  readonly #ttlMs: number
  readonly #logger: CacheLogger
  readonly #instance = randomUUID()
  #next = 0
  /** Slots held by this process, per account set key. */
  readonly #held = new Map<string, Set<string>>()
  /** Accounts seen lately, by tag: a message names the tag, the pool the account. */
  readonly #accounts = new LRUCache<string, Account>({ max: 10_000 })
  readonly #renewer: NodeJS.Timeout
  #subscriber: Redis | null = null

  constructor (store: RedisStore, secret: Buffer, opts: RedisSlotsOptions) {
    this.#store = store
    // defined before any command: an auto-pipeline built earlier lacks them (ioredis), and one
    // defined while such a pipeline waits breaks it and throws out of its callback
    withCommands(store.client)
    this.#secret = secret
    this.#limit = opts.limit
    this.#ttlMs = opts.ttlMs ?? 15_000
    this.#logger = opts.logger ?? silentLogger
    this.#renewer = setInterval(() => { this.#renew() }, Math.max(100, Math.floor(this.#ttlMs / 3)))
    this.#renewer.unref()
  }

  #account (group: string): Account {
    const tag = accountTag(this.#secret, group)
    let a = this.#accounts.get(tag)
    if (a === undefined) {
      const base = `${KEY_PREFIX}:${KEY_VERSION}:{${tag}}:conns`
      a = { group, tag, set: base, wanted: `${base}-wanted` }
      this.#accounts.set(tag, a)
    }
    return a
  }

  async take (group: string): Promise<(() => void) | null> {
    const a = this.#account(group)
    const member = `${this.#instance}:${++this.#next}`
    let granted: boolean
    try {
      granted = await this.#store.strict('redis connection slot failed', (client) =>
        withCommands(client).mgSlotTake(a.set, a.wanted, member, this.#limit, this.#ttlMs, SLOTS_CHANNEL, a.tag)) === 1
    } catch {
      // Redis away: grant; each instance's own cap still holds, and nothing to give back
      return () => {}
    }
    if (!granted) return null
    let held = this.#held.get(a.set)
    if (held === undefined) this.#held.set(a.set, held = new Set())
    held.add(member)
    let given = false
    return () => {
      if (given) return
      given = true
      this.#forget(a.set, member)
      this.#store.strict('redis connection slot failed', (client) =>
        withCommands(client).mgSlotGive(a.set, a.wanted, member, SLOTS_CHANNEL, a.tag)).catch(() => {})
    }
  }

  listen (events: { freed: (group: string) => void, wanted: (group: string) => void }): void {
    const sub = this.#store.client.duplicate()
    this.#subscriber = sub
    sub.on('error', () => {})
    const subscribe = (): void => { sub.subscribe(SLOTS_CHANNEL).catch((err: unknown) => { this.#logger.warn({ event: 'redis subscribe failed', err: String(err) }, 'cache: connection slots not subscribed') }) }
    sub.on('ready', subscribe)
    sub.on('message', (_channel: string, message: string) => {
      const [kind, tag = ''] = message.split(':', 2)
      const a = this.#accounts.get(tag)
      if (a === undefined) return
      if (kind === 'free') events.freed(a.group)
      else if (kind === 'want' && this.#held.has(a.set)) events.wanted(a.group)
    })
  }

  /** Slots this process holds (tests, stats). */
  held (): number {
    let n = 0
    for (const s of this.#held.values()) n += s.size
    return n
  }

  async close (): Promise<void> {
    clearInterval(this.#renewer)
    this.#subscriber?.disconnect()
  }

  #forget (set: string, member: string): void {
    const held = this.#held.get(set)
    held?.delete(member)
    if (held?.size === 0) this.#held.delete(set)
  }

  #renew (): void {
    for (const [set, members] of this.#held) {
      this.#store.strict('redis connection slot renew failed', (client) =>
        withCommands(client).mgSlotRenew(set, this.#ttlMs, ...members)).catch(() => {})
    }
  }
}
