/**
 * The shared revocation list in Redis: ONE sorted set, member = keyed HMAC of
 * the token id, score = when the entry may go (ms since epoch).
 *
 * The set itself has no TTL, on purpose: under a `volatile-*` maxmemory-policy
 * Redis evicts only keys that have one, so revocations are never evicted
 * while cache entries (all with TTLs) are. Expired members are pruned on each
 * write (ZREMRANGEBYSCORE: logarithmic, removes only what is due). One key
 * costs about 100 bytes per revoked, unexpired token.
 *
 * Reads cost no Redis round trip: each instance keeps a copy of the set
 * (revocation-mirror.ts), loaded in full and then fed by Pub/Sub. A write adds
 * the member and publishes it in one script on the set's node, so on a Redis
 * Cluster too every message starts from the same node, in order. While the
 * copy is not known to be current (see the mirror), a read asks Redis, and
 * rejects when Redis cannot answer: the caller refuses the token (fail closed).
 *
 * Before this layout revocations were string keys `mg:v1:rev:<digest>` with a
 * TTL, the same string as the member here; reads still look at that key (once
 * per token per resync period), so a token revoked by an earlier version
 * stays revoked until its expiry.
 */
import type { Redis } from 'ioredis'
import { KEY_PREFIX, KEY_VERSION } from './keys.ts'
import type { RedisStore } from './redis-store.ts'
import { REV_BASE, REV_MEMBER, RevocationMirror, type MirrorOptions } from './revocation-mirror.ts'
import type { SharedRevocationList } from './revocations.ts'

/** Durable state lives under `mg:v1:state:` (no TTL; see docs/security.md). */
export const STATE_PREFIX = `${KEY_PREFIX}:${KEY_VERSION}:state:`
export const REVOCATION_LIST_KEY = `${STATE_PREFIX}revoked`
/** Pub/Sub channel of the list: `r <member> <until ms> <rev>` for a revocation, `p <instance> <n> <rev>` for a heartbeat. */
export const REVOCATION_CHANNEL = `${STATE_PREFIX}revoked:feed`

const REV = `(redis.call('zscore', KEYS[1], '${REV_MEMBER}') or '${REV_BASE.toFixed(0)}')`
/** ZADD, the revision's bump and PUBLISH together, on the node that holds the set; the prune is housekeeping. */
const ADD_SCRIPT = `local rev = string.format('%d', tonumber(${REV}) + 1)
redis.call('zadd', KEYS[1], ARGV[1], ARGV[2], rev, '${REV_MEMBER}')
redis.call('publish', ARGV[3], 'r ' .. ARGV[2] .. ' ' .. ARGV[1] .. ' ' .. rev)
redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[4])
return rev`
/** A heartbeat naming the list's revision as it stands when the heartbeat is processed. */
const PING_SCRIPT = `return redis.call('publish', ARGV[1], ARGV[2] .. ' ' .. ${REV})`

export class RedisRevocationList implements SharedRevocationList {
  readonly mirror: RevocationMirror

  constructor (private readonly store: RedisStore, opts: MirrorOptions = {}) {
    this.mirror = new RevocationMirror({
      subscriber: () => store.client.duplicate(),
      channel: REVOCATION_CHANNEL,
      load: async () => await store.strict('redis revocation resync failed', async (client) =>
        pairs(await client.zrangebyscore(REVOCATION_LIST_KEY, Date.now(), '+inf', 'WITHSCORES'))),
      ping: async (message) => {
        await store.strict('redis revocation heartbeat failed', (client) => client.eval(PING_SCRIPT, 1, REVOCATION_LIST_KEY, REVOCATION_CHANNEL, message))
      },
    }, opts)
    // the store's client ended (quit while connected): so does the copy; close() covers the rest
    store.client.once('end', () => { this.mirror.close() })
  }

  async add (member: string, untilMs: number): Promise<void> {
    await this.store.strict('redis revocation write failed', (client: Redis) =>
      client.eval(ADD_SCRIPT, 1, REVOCATION_LIST_KEY, untilMs, member, REVOCATION_CHANNEL, Date.now()))
    this.mirror.learn(member, untilMs)
  }

  async has (member: string): Promise<boolean> {
    const known = this.mirror.lookup(member)
    if (known !== undefined) return known
    let answer: [string | null, number]
    try {
      answer = await this.store.strict('redis revocation read failed', (client) =>
        Promise.all([client.zscore(REVOCATION_LIST_KEY, member), client.exists(member)]))
    } catch (err) {
      // Redis cannot answer: the last copy this instance loaded, if it ever loaded one (else refused)
      const last = this.mirror.lastKnown(member)
      if (last === undefined) throw err
      return last
    }
    const [score, legacy] = answer
    this.mirror.legacyChecked(member, legacy > 0)
    return legacy > 0 || (score !== null && Number(score) > Date.now())
  }

  close (): void {
    this.mirror.close()
  }
}

/** ZRANGE … WITHSCORES: [member, score, member, score, …] → pairs. */
function pairs (flat: string[]): Array<[string, number]> {
  const out: Array<[string, number]> = []
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, Number(flat[i + 1])])
  return out
}
