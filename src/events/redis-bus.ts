/**
 * The event bus for many instances sharing Redis (docs/events.md, "Redis").
 *
 * Per account, in one Cluster slot (the `{account tag}` of src/cache/keys.ts):
 *
 *   mg:v1:{tag}:events:<digest>       Stream: the retained events, oldest first;
 *                                     fields i = keyed digest of the event id,
 *                                     d = the event sealed for the account
 *   mg:v1:{tag}:event-ids:<digest>    Hash: event id digest → stream entry id
 *   mg:v1:{tag}:event-fanout:<digest> Pub/Sub channel: "<entry id> <sealed event>"
 *
 * One script appends: it drops an event whose id the hash holds (so the same
 * change published by two instances is kept and delivered once), XADDs,
 * trims (at least `minEvents` or `retainMs`, whichever keeps more, never more
 * than `maxEvents`; on Redis time), refreshes the idle TTL and PUBLISHes, all
 * atomically. Every instance with a subscriber for the account listens on its
 * channel over its own connection (never the cache's fail-fast one), and
 * after a reconnect reads what it missed from the stream. Replay looks the id
 * up in the hash and reads the stream after that entry.
 */
import type { Redis } from 'ioredis'
import type { RedisOptions } from 'ioredis'
import { rateLimitedWarn, silentLogger, type CacheLogger } from '../cache/cache.ts'
import { accountTag, cacheKey, deriveKey } from '../cache/keys.ts'
import { connectRedis } from '../cache/redis-connect.ts'
import { seal, unseal } from '../cache/seal.ts'
import type { BusSubscription, EventBus, MailEvent, Replay } from '../mail/events.ts'
import { AccountListeners } from './listeners.ts'
import { DEFAULT_RETENTION, type RetentionLimits } from './memory-bus.ts'

/** An account with no event for this long loses its log (ms; 7 days). */
export const DEFAULT_IDLE_TTL_MS = 7 * 24 * 60 * 60 * 1000

/** Oldest entries one append may remove: keeps the script short. */
const TRIM_BATCH = 100

/**
 * KEYS: stream, ids. ARGV: id digest, sealed event, retainMs, minEvents,
 * maxEvents, idle TTL (ms), channel. Returns the entry id, or false for a
 * duplicate.
 */
const APPEND = `
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return false end
local sid = redis.call('XADD', KEYS[1], '*', 'i', ARGV[1], 'd', ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], sid)
local t = redis.call('TIME')
local cutoff = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[3])
local minEvents, maxEvents = tonumber(ARGV[4]), tonumber(ARGV[5])
local len = redis.call('XLEN', KEYS[1])
local budget = ${TRIM_BATCH}
while len > minEvents and budget > 0 do
  local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
  local ms = tonumber(string.match(oldest[1], '^(%d+)'))
  if len <= maxEvents and ms >= cutoff then break end
  redis.call('XDEL', KEYS[1], oldest[1])
  redis.call('HDEL', KEYS[2], oldest[2][2])
  len = len - 1
  budget = budget - 1
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('PUBLISH', ARGV[7], sid .. ' ' .. ARGV[2])
return sid
`

interface BusCommands {
  mgEventAppend: (stream: string, ids: string, field: string, payload: Buffer, retainMs: number,
    minEvents: number, maxEvents: number, idleTtlMs: number, channel: string) => Promise<string | null>
}

export interface RedisBusOptions {
  url: string
  /** Read a redis:// URL as a Redis Cluster seed (REDIS_CLUSTER). */
  cluster?: boolean
  /** The gateway secret: names the keys and seals the events. */
  secret: Buffer
  logger?: CacheLogger
  retention?: Partial<Pick<RetentionLimits, 'minEvents' | 'retainMs' | 'maxEvents'>>
  idleTtlMs?: number
}

interface Place {
  tag: string
  stream: string
  ids: string
  channel: string
  aead: Buffer
}

/** Stream entry ids ("ms-seq") in order. */
export function compareEntryIds (a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-')
  const [bm = '0', bs = '0'] = b.split('-')
  return Number(am) - Number(bm) || Number(as) - Number(bs)
}

function connectionOptions (name: string): RedisOptions {
  return {
    connectionName: name,
    // unlike the cache: a subscription and a publish ride out a short outage
    enableOfflineQueue: true,
    maxRetriesPerRequest: 2,
    commandTimeout: 5000,
    connectTimeout: 2000,
    autoResubscribe: true,
    retryStrategy: (times: number) => Math.min(2000, 50 * 2 ** Math.min(times, 10)) + Math.floor(Math.random() * 100),
  }
}

export class RedisEventBus implements EventBus {
  readonly #cmd: Redis & BusCommands
  readonly #sub: Redis
  readonly #secret: Buffer
  readonly #limits: Pick<RetentionLimits, 'minEvents' | 'retainMs' | 'maxEvents'>
  readonly #idleTtlMs: number
  readonly #warn: (event: string, err: unknown) => void
  readonly #listeners: AccountListeners
  readonly #places = new Map<string, Place>()
  /** channel → account, for the accounts someone here listens to. */
  readonly #channels = new Map<string, string>()
  /** account → the last stream entry delivered here (for catching up after a reconnect). */
  readonly #lastSeen = new Map<string, string>()
  /** account → the tail of its delivery chain: events are unsealed asynchronously but delivered in order. */
  readonly #chains = new Map<string, Promise<void>>()
  #wasReady = false
  #closed = false

  constructor (opts: RedisBusOptions) {
    const logger = opts.logger ?? silentLogger
    this.#warn = rateLimitedWarn(logger)
    this.#secret = opts.secret
    this.#limits = {
      minEvents: opts.retention?.minEvents ?? DEFAULT_RETENTION.minEvents,
      retainMs: opts.retention?.retainMs ?? DEFAULT_RETENTION.retainMs,
      maxEvents: opts.retention?.maxEvents ?? DEFAULT_RETENTION.maxEvents,
    }
    this.#idleTtlMs = opts.idleTtlMs ?? DEFAULT_IDLE_TTL_MS
    this.#cmd = connectRedis(opts.url, opts.cluster === true, connectionOptions('mail-gateway-events')) as Redis & BusCommands
    this.#cmd.on('error', (err: unknown) => { this.#warn('redis event bus error', err) })
    this.#cmd.defineCommand('mgEventAppend', { numberOfKeys: 2, lua: APPEND })
    this.#sub = connectRedis(opts.url, opts.cluster === true, connectionOptions('mail-gateway-events-sub'))
    this.#sub.on('error', (err: unknown) => { this.#warn('redis event subscription error', err) })
    this.#sub.on('messageBuffer', (channel: Buffer, message: Buffer) => { this.#onMessage(channel.toString('utf8'), message) })
    this.#sub.on('ready', () => {
      // after a reconnect: what was published meanwhile is in the streams
      if (this.#wasReady) for (const accountId of this.#listeners.accounts()) this.#catchUp(accountId)
      this.#wasReady = true
    })
    this.#listeners = new AccountListeners({
      first: (accountId) => { this.#listen(accountId) },
      last: (accountId) => { this.#unlisten(accountId) },
    })
  }

  #place (accountId: string): Place {
    let place = this.#places.get(accountId)
    if (place === undefined) {
      const tag = accountTag(this.#secret, accountId)
      place = {
        tag,
        stream: cacheKey(this.#secret, tag, 'events'),
        ids: cacheKey(this.#secret, tag, 'event-ids'),
        channel: cacheKey(this.#secret, tag, 'event-fanout'),
        aead: deriveKey(this.#secret, 'entry-aead', accountId),
      }
      // bounded: a place is kept only while the account has listeners here (see #unlisten)
      if (this.#places.size < 10_000) this.#places.set(accountId, place)
    }
    return place
  }

  /** The keyed digest stored for an event id (ids are derived from account data). */
  #field (place: Place, eventId: string): string {
    const key = cacheKey(this.#secret, place.tag, 'event', eventId)
    return key.slice(key.lastIndexOf(':') + 1)
  }

  #aad (place: Place, field: string): string {
    return `${place.stream}\0${field}`
  }

  async publish (event: MailEvent): Promise<void> {
    if (this.#closed) return
    const place = this.#place(event.accountId)
    const field = this.#field(place, event.id)
    const sealed = await seal(place.aead, this.#aad(place, field), Buffer.from(JSON.stringify(event), 'utf8'))
    const { retainMs, minEvents, maxEvents } = this.#limits
    await this.#cmd.mgEventAppend(place.stream, place.ids, field, Buffer.concat([Buffer.from(field + ' '), sealed]),
      retainMs, minEvents, maxEvents, this.#idleTtlMs, place.channel)
  }

  subscribe (accountId: string, listener: (event: MailEvent) => void): BusSubscription {
    return this.#listeners.add(accountId, listener)
  }

  async replayAfter (accountId: string, lastEventId: string): Promise<Replay> {
    const place = this.#place(accountId)
    const sid = await this.#cmd.hget(place.ids, this.#field(place, lastEventId))
    if (sid === null) return { found: false }
    const events: MailEvent[] = []
    for (const [, event] of await this.#read(accountId, place, sid)) events.push(event)
    return { found: true, events }
  }

  /** Local subscriptions for the account (tests, metrics). */
  listenerCount (accountId: string): number {
    return this.#listeners.count(accountId)
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#listeners.clear()
    this.#channels.clear()
    await Promise.allSettled([this.#cmd.quit(), this.#sub.quit()])
    this.#cmd.disconnect()
    this.#sub.disconnect()
  }

  /** Entries after `sid` (exclusive), unsealed; an entry that fails to unseal is skipped. */
  async #read (accountId: string, place: Place, sid: string): Promise<Array<[string, MailEvent]>> {
    const rows = await this.#cmd.xrangeBuffer(place.stream, `(${sid}`, '+', 'COUNT', this.#limits.maxEvents)
    const out: Array<[string, MailEvent]> = []
    for (const [id, fields] of rows) {
      const data = fields[3]
      const event = data === undefined ? null : await this.#open(place, data)
      if (event !== null && event.accountId === accountId) out.push([id.toString('utf8'), event])
    }
    return out
  }

  /** "<field> <sealed>" → the event, or null when it does not authenticate. */
  async #open (place: Place, data: Buffer): Promise<MailEvent | null> {
    const space = data.indexOf(0x20)
    if (space < 0) return null
    const field = data.subarray(0, space).toString('utf8')
    const plain = await unseal(place.aead, this.#aad(place, field), data.subarray(space + 1))
    if (plain === null) return null
    try {
      return JSON.parse(plain.toString('utf8')) as MailEvent
    } catch {
      return null
    }
  }

  #listen (accountId: string): void {
    const place = this.#place(accountId)
    this.#places.set(accountId, place)
    this.#channels.set(place.channel, accountId)
    this.#enqueue(accountId, async () => {
      await this.#sub.subscribe(place.channel)
      // where catching up after a reconnect starts: the newest entry once the channel is live
      const newest = await this.#cmd.xrevrange(place.stream, '+', '-', 'COUNT', 1)
      if (!this.#lastSeen.has(accountId)) this.#lastSeen.set(accountId, newest[0]?.[0] ?? '0-0')
    })
  }

  #unlisten (accountId: string): void {
    const place = this.#place(accountId)
    this.#channels.delete(place.channel)
    this.#places.delete(accountId)
    this.#lastSeen.delete(accountId)
    if (!this.#closed) this.#enqueue(accountId, async () => { await this.#sub.unsubscribe(place.channel) })
  }

  #onMessage (channel: string, message: Buffer): void {
    const accountId = this.#channels.get(channel)
    if (accountId === undefined) return
    const space = message.indexOf(0x20)
    if (space < 0) return
    const sid = message.subarray(0, space).toString('utf8')
    const place = this.#place(accountId)
    this.#enqueue(accountId, async () => {
      const event = await this.#open(place, message.subarray(space + 1))
      if (event !== null) this.#deliver(accountId, sid, event)
    })
  }

  #catchUp (accountId: string): void {
    this.#enqueue(accountId, async () => {
      const from = this.#lastSeen.get(accountId)
      if (from === undefined) return
      // the channel is live again before the stream is read, so nothing falls in between
      await this.#sub.subscribe(this.#place(accountId).channel)
      for (const [sid, event] of await this.#read(accountId, this.#place(accountId), from)) this.#deliver(accountId, sid, event)
    })
  }

  /** Delivers an entry newer than the last one delivered for the account (live and catch-up overlap). */
  #deliver (accountId: string, sid: string, event: MailEvent): void {
    const last = this.#lastSeen.get(accountId)
    if (last !== undefined && compareEntryIds(sid, last) <= 0) return
    this.#lastSeen.set(accountId, sid)
    if (event.accountId === accountId) this.#listeners.deliver(event)
  }

  #enqueue (accountId: string, step: () => Promise<void>): void {
    const tail = (this.#chains.get(accountId) ?? Promise.resolve())
      .then(step)
      .catch((err: unknown) => { this.#warn('redis event delivery failed', err) })
    this.#chains.set(accountId, tail)
    tail.then(() => { if (this.#chains.get(accountId) === tail) this.#chains.delete(accountId) }, () => {})
  }
}
