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
 * Before this layout revocations were string keys `mg:v1:rev:<digest>` with a
 * TTL, the same string as the member here; reads still look at that key, so a
 * token revoked by an earlier version stays revoked until its expiry.
 */
import { KEY_PREFIX, KEY_VERSION } from './keys.ts'
import type { RedisStore } from './redis-store.ts'
import type { SharedRevocationList } from './revocations.ts'

/** Durable state lives under `mg:v1:state:` (no TTL; see docs/security.md). */
export const STATE_PREFIX = `${KEY_PREFIX}:${KEY_VERSION}:state:`
export const REVOCATION_LIST_KEY = `${STATE_PREFIX}revoked`

export class RedisRevocationList implements SharedRevocationList {
  constructor (private readonly store: RedisStore) {}

  async add (member: string, untilMs: number): Promise<void> {
    await this.store.strict('redis revocation write failed', async (client) => {
      await client.zadd(REVOCATION_LIST_KEY, untilMs, member)
      // housekeeping: a failure here loses nothing
      client.zremrangebyscore(REVOCATION_LIST_KEY, '-inf', Date.now()).catch(() => {})
    })
  }

  async has (member: string): Promise<boolean> {
    const [score, legacy] = await this.store.strict('redis revocation read failed', (client) =>
      Promise.all([client.zscore(REVOCATION_LIST_KEY, member), client.exists(member)]))
    return legacy > 0 || (score !== null && Number(score) > Date.now())
  }
}
