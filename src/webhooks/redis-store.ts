/**
 * Webhook registrations and their delivery queues in Redis, as durable state
 * (no TTL, so no `volatile-*` eviction reaches them; each registration carries
 * its expiry, and expired ones are pruned by the index below).
 *
 *   mg:v1:state:{tag}:wh            hash: webhook id → sealed registration
 *   mg:v1:state:{tag}:whq:<id>      stream: the webhook's queue (consumer group "d")
 *   mg:v1:state:{tag}:whc:<id>      hash: counters (dead, attempts of the head entry)
 *   mg:v1:{tag}:whd:<digest>        dedup marker per (webhook, event id), with a TTL
 *   mg:v1:state:wh-index:<d>        sorted set: "<tag>/<id>" by expiry (ms)
 *   mg:v1:state:wh-due:<d>          sorted set: "<tag>/<id>" by when its queue is next due (ms)
 *                                   (<d>: a keyed digest, so each gateway secret has its own)
 *
 * `{tag}` is the account's keyed tag (cache/keys.ts): one account's keys share
 * a Cluster slot, so each script below touches one slot; the two global sorted
 * sets are written by separate commands. Registrations are sealed with
 * AES-256-GCM (cache/seal.ts) under a key derived from the gateway secret,
 * with the hash key and field as associated data: they hold a bearer token
 * (the sealed mail credentials) and the signing secret.
 */
import type { Redis } from 'ioredis'
import { accountTag, cacheKey, deriveKey, globalKey } from '../cache/keys.ts'
import { STATE_PREFIX } from '../cache/redis-revocations.ts'
import { withScripts } from '../cache/redis-scripts.ts'
import { seal, unseal } from '../cache/seal.ts'
import type { EnqueueResult, WebhookCounters, WebhookEvent, WebhookRecord, WebhookStore } from '../mail/webhooks-types.ts'

/** A deployment-wide sorted set, named per gateway secret: another secret's registrations (which it could not open) stay apart. */
function globalSetKey (secret: Buffer, kind: string): string {
  return `${STATE_PREFIX}${kind}:${globalKey(secret, kind).split(':').pop() ?? ''}`
}
export const GROUP = 'd'
/** How long an event id is remembered per webhook: past the retry window, so a late offer is still a duplicate. */
const DEDUP_SECONDS = 26 * 3600
/** Undelivered entries one webhook may hold; events beyond are dropped and counted. */
export const QUEUE_MAX = 10_000

/** KEYS: hash, stream. ARGV: field, value, max. 1 stored, 0 at the cap. */
const CREATE = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('XGROUP', 'CREATE', KEYS[2], '${GROUP}', '0', 'MKSTREAM') end
return 1
`
/** KEYS: hash, dedup, stream, counters. ARGV: field, payload, dedup seconds, max. */
const ENQUEUE = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 'gone' end
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[3]) then return 'duplicate' end
if redis.call('XLEN', KEYS[3]) >= tonumber(ARGV[4]) then
  redis.call('HINCRBY', KEYS[4], 'dead', 1)
  return 'dropped'
end
redis.call('XADD', KEYS[3], '*', 'e', ARGV[2])
return 'queued'
`
/** KEYS: hash, field exists check. ARGV: field, value. */
const UPDATE = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`

interface Commands {
  mgWhCreate: (hash: string, stream: string, field: string, value: string, max: number) => Promise<number>
  mgWhEnqueue: (hash: string, dedup: string, stream: string, counters: string, field: string, payload: string, ttl: number, max: number) => Promise<string>
  mgWhUpdate: (hash: string, field: string, value: string) => Promise<number>
}

const SCRIPTS = {
  mgWhCreate: { numberOfKeys: 2, lua: CREATE },
  mgWhEnqueue: { numberOfKeys: 4, lua: ENQUEUE },
  mgWhUpdate: { numberOfKeys: 1, lua: UPDATE },
} as const

function withCommands (client: Redis): Redis & Commands {
  return withScripts<Commands>(client, SCRIPTS)
}

/** A webhook's place in the global sets: `<tag>/<id>`. */
export function refOf (tag: string, id: string): string {
  return `${tag}/${id}`
}

export function parseRef (ref: string): { tag: string, id: string } | null {
  const i = ref.indexOf('/')
  return i <= 0 ? null : { tag: ref.slice(0, i), id: ref.slice(i + 1) }
}

export const hashKey = (tag: string): string => `${STATE_PREFIX}{${tag}}:wh`
export const streamKey = (tag: string, id: string): string => `${STATE_PREFIX}{${tag}}:whq:${id}`
export const countersKey = (tag: string, id: string): string => `${STATE_PREFIX}{${tag}}:whc:${id}`

export class RedisWebhookStore implements WebhookStore {
  readonly client: Redis & Commands
  readonly #sealKey: Buffer
  readonly indexKey: string
  /** Webhooks with something to deliver, by when (the delivery worker's schedule). */
  readonly dueKey: string

  constructor (client: Redis, private readonly secret: Buffer) {
    this.client = withCommands(client)
    this.#sealKey = deriveKey(secret, 'webhook-record')
    this.indexKey = globalSetKey(secret, 'wh-index')
    this.dueKey = globalSetKey(secret, 'wh-due')
  }

  tagOf (accountId: string): string {
    return accountTag(this.secret, accountId)
  }

  async #seal (tag: string, record: WebhookRecord): Promise<string> {
    return (await seal(this.#sealKey, `${hashKey(tag)}\0${record.id}`, Buffer.from(JSON.stringify(record)))).toString('base64')
  }

  async #open (tag: string, id: string, value: string | null): Promise<WebhookRecord | null> {
    if (value === null) return null
    const plain = await unseal(this.#sealKey, `${hashKey(tag)}\0${id}`, Buffer.from(value, 'base64'))
    if (plain === null) return null
    const record = JSON.parse(plain.toString('utf8')) as WebhookRecord
    return record.expiresAt > Date.now() ? record : null
  }

  async create (record: WebhookRecord, max: number): Promise<boolean> {
    const tag = this.tagOf(record.accountId)
    await this.#pruneExpired(tag)
    const stored = await this.client.mgWhCreate(hashKey(tag), streamKey(tag, record.id), record.id, await this.#seal(tag, record), max)
    if (stored !== 1) return false
    await this.client.zadd(this.indexKey, record.expiresAt, refOf(tag, record.id))
    return true
  }

  async get (accountId: string, id: string): Promise<WebhookRecord | null> {
    const tag = this.tagOf(accountId)
    return await this.byRef(tag, id)
  }

  /** The registration behind a queue reference (the delivery worker), or null. */
  async byRef (tag: string, id: string): Promise<WebhookRecord | null> {
    return await this.#open(tag, id, await this.client.hget(hashKey(tag), id))
  }

  async list (accountId: string): Promise<WebhookRecord[]> {
    const tag = this.tagOf(accountId)
    const all = await this.client.hgetall(hashKey(tag))
    const records = await Promise.all(Object.entries(all).map(([id, v]) => this.#open(tag, id, v)))
    return records.filter((r): r is WebhookRecord => r !== null).sort((a, b) => a.createdAt - b.createdAt)
  }

  async all (): Promise<WebhookRecord[]> {
    await this.#pruneIndex()
    const refs = await this.client.zrange(this.indexKey, '0', '-1')
    const out: WebhookRecord[] = []
    for (const ref of refs) {
      const parsed = parseRef(ref)
      if (parsed === null) continue
      const record = await this.byRef(parsed.tag, parsed.id)
      if (record !== null) out.push(record)
    }
    return out
  }

  async update (record: WebhookRecord): Promise<boolean> {
    const tag = this.tagOf(record.accountId)
    const ok = await this.client.mgWhUpdate(hashKey(tag), record.id, await this.#seal(tag, record)) === 1
    if (ok) await this.client.zadd(this.indexKey, record.expiresAt, refOf(tag, record.id))
    return ok
  }

  async remove (accountId: string, id: string): Promise<boolean> {
    return await this.removeByRef(this.tagOf(accountId), id)
  }

  /** Ends a registration and drops its queue and counters. */
  async removeByRef (tag: string, id: string): Promise<boolean> {
    const [removed] = await Promise.all([
      this.client.hdel(hashKey(tag), id),
      this.client.del(streamKey(tag, id), countersKey(tag, id)),
    ])
    const ref = refOf(tag, id)
    await Promise.all([this.client.zrem(this.indexKey, ref), this.client.zrem(this.dueKey, ref)])
    return removed === 1
  }

  async counters (accountId: string, id: string): Promise<WebhookCounters> {
    const dead = await this.client.hget(countersKey(this.tagOf(accountId), id), 'dead')
    return { deadLetters: dead === null ? 0 : Number(dead) }
  }

  async enqueue (record: WebhookRecord, event: WebhookEvent): Promise<EnqueueResult> {
    const tag = this.tagOf(record.accountId)
    const result = await this.client.mgWhEnqueue(
      hashKey(tag), cacheKey(this.secret, tag, 'whd', record.id, event.id), streamKey(tag, record.id), countersKey(tag, record.id),
      record.id, JSON.stringify(event), DEDUP_SECONDS, QUEUE_MAX)
    if (result === 'queued') {
      // due now unless it already waits (a backoff keeps its time)
      await this.client.zadd(this.dueKey, 'NX', Date.now(), refOf(tag, record.id))
      return 'queued'
    }
    return result === 'dropped' ? 'dropped' : 'duplicate'
  }

  /** Expired registrations of the whole deployment: ended with their queues (bounded per call). */
  async #pruneIndex (): Promise<void> {
    const due = await this.client.zrangebyscore(this.indexKey, '-inf', Date.now(), 'LIMIT', 0, 100)
    for (const ref of due) {
      const parsed = parseRef(ref)
      if (parsed !== null) await this.removeByRef(parsed.tag, parsed.id)
      else await this.client.zrem(this.indexKey, ref)
    }
  }

  /** Expired registrations of one account, so they do not count against its cap. */
  async #pruneExpired (tag: string): Promise<void> {
    const all = await this.client.hgetall(hashKey(tag))
    for (const [id, value] of Object.entries(all)) {
      if (await this.#open(tag, id, value) === null) await this.removeByRef(tag, id)
    }
  }
}
