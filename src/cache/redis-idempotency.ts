/**
 * Idempotency-Key records in Redis as durable state, beside revocations: per
 * account ONE hash (field = keyed digest of the key, value = the record
 * sealed for that account) and ONE sorted set of when each field may go.
 *
 *   mg:v1:state:{<account tag>}:idem        hash
 *   mg:v1:state:{<account tag>}:idem-due    sorted set, score = ms since epoch
 *
 * Neither key has a TTL, so no `volatile-*` eviction reaches a record; each
 * entry carries its own expiry and due entries are pruned by every write
 * (bounded per call). The `{tag}` hash tag puts both keys in one Cluster
 * slot, so each script below touches one slot. The claim is one script:
 * exactly one of several instances claiming the same new key wins.
 */
import type { Redis } from 'ioredis'
import type { SharedIdempotencyRecords } from '../mail/idempotency.ts'
import { accountTag, cacheKey, deriveKey } from './keys.ts'
import { STATE_PREFIX } from './redis-revocations.ts'
import { withScripts } from './redis-scripts.ts'
import type { RedisStore } from './redis-store.ts'
import { seal, unseal } from './seal.ts'

/** Due entries removed per write: keeps each script short however much is due. */
const PRUNE_BATCH = 100

const PRUNE = `
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ${PRUNE_BATCH})
if #due > 0 then
  redis.call('HDEL', KEYS[1], unpack(due))
  redis.call('ZREM', KEYS[2], unpack(due))
end
`
/** ARGV: now, field, value, until. Returns the live record, or false once this call stored `value`. */
const CLAIM = `${PRUNE}
local current = redis.call('HGET', KEYS[1], ARGV[2])
local untilMs = redis.call('ZSCORE', KEYS[2], ARGV[2])
if current and untilMs and tonumber(untilMs) > tonumber(ARGV[1]) then return current end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
return false
`
/** ARGV: now, field, value, until. */
const PUT = `${PRUNE}
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
return 1
`

interface IdempotencyCommands {
  mgIdemClaim: (hash: string, due: string, now: number, field: string, value: string, until: number) => Promise<string | null>
  mgIdemPut: (hash: string, due: string, now: number, field: string, value: string, until: number) => Promise<number>
}

const SCRIPTS = {
  mgIdemClaim: { numberOfKeys: 2, lua: CLAIM },
  mgIdemPut: { numberOfKeys: 2, lua: PUT },
} as const

function withCommands (client: Redis): Redis & IdempotencyCommands {
  return withScripts<IdempotencyCommands>(client, SCRIPTS)
}

export class RedisIdempotencyRecords implements SharedIdempotencyRecords {
  constructor (private readonly store: RedisStore, private readonly secret: Buffer) {
    // before any command (see RedisSlots): an auto-pipeline waiting meanwhile would break
    withCommands(store.client)
  }

  #where (accountId: string, key: string): { hash: string, due: string, field: string, aead: Buffer, aad: string } {
    const tag = accountTag(this.secret, accountId)
    const aad = cacheKey(this.secret, tag, 'idem', key)
    const field = aad.slice(aad.lastIndexOf(':') + 1)
    const base = `${STATE_PREFIX}{${tag}}:idem`
    return { hash: base, due: `${base}-due`, field, aead: deriveKey(this.secret, 'entry-aead', accountId), aad }
  }

  async #open (aead: Buffer, aad: string, sealed: string | null): Promise<string | null> {
    if (sealed === null) return null
    const plain = await unseal(aead, aad, Buffer.from(sealed, 'base64'))
    return plain === null ? null : plain.toString('utf8')
  }

  async claim (accountId: string, key: string, value: string, untilMs: number): Promise<string | null> {
    const w = this.#where(accountId, key)
    const sealed = (await seal(w.aead, w.aad, Buffer.from(value, 'utf8'))).toString('base64')
    const current = await this.store.strict('redis idempotency claim failed', (client) =>
      withCommands(client).mgIdemClaim(w.hash, w.due, Date.now(), w.field, sealed, untilMs))
    return await this.#open(w.aead, w.aad, current)
  }

  async put (accountId: string, key: string, value: string, untilMs: number): Promise<void> {
    const w = this.#where(accountId, key)
    const sealed = (await seal(w.aead, w.aad, Buffer.from(value, 'utf8'))).toString('base64')
    await this.store.strict('redis idempotency write failed', (client) =>
      withCommands(client).mgIdemPut(w.hash, w.due, Date.now(), w.field, sealed, untilMs))
  }

  async get (accountId: string, key: string): Promise<string | null> {
    const w = this.#where(accountId, key)
    const [sealed, untilMs] = await this.store.strict('redis idempotency read failed', (client) =>
      Promise.all([client.hget(w.hash, w.field), client.zscore(w.due, w.field)]))
    if (untilMs === null || Number(untilMs) <= Date.now()) return null
    return await this.#open(w.aead, w.aad, sealed)
  }

  async delete (accountId: string, key: string): Promise<void> {
    const w = this.#where(accountId, key)
    await this.store.strict('redis idempotency delete failed', (client) =>
      client.multi().hdel(w.hash, w.field).zrem(w.due, w.field).exec())
  }
}
