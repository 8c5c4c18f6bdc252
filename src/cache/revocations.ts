/**
 * Token revocations (DELETE /v1/sessions/current), kept until the token's own
 * expiry.
 *
 * Written to the CacheStore (Redis → every instance sees them) and to an
 * in-process list. The local list is always consulted, so the instance that
 * revoked keeps refusing the token while Redis is down, and with the memory
 * store a revocation never falls to the byte-bounded LRU's eviction.
 * Limitation: while Redis is down, a token revoked on ANOTHER instance is not
 * known here; it is refused again as soon as Redis is back.
 */
import { LRUCache } from 'lru-cache'
import type { CacheStore } from './cache.ts'
import { ExpiringMap } from '../util/expiring-map.ts'
import { globalKey } from './keys.ts'

export interface Revocations {
  /** `expiresAt`: the token's expiry (ms since epoch, or a Date; Unix seconds are recognised). */
  revoke: (tokenId: string, expiresAt: number | Date) => Promise<void>
  isRevoked: (tokenId: string) => Promise<boolean>
}

export interface RevocationOptions {
  /** Bound of the in-process list (entries). Default 1 000 000 (~100 MB worst case). */
  maxLocal?: number
  /** Seconds kept beyond the expiry, to cover clock skew between instances. Default 60. */
  slackSeconds?: number
}

const MARK = Buffer.from('1')

export function createRevocations (store: CacheStore, secret: Buffer, opts: RevocationOptions = {}): Revocations {
  const slack = opts.slackSeconds ?? 60
  const local = new ExpiringMap<true>(opts.maxLocal ?? 1_000_000)
  // The key is an HMAC: memoised for the tokens in use (one lookup per request).
  const keys = new LRUCache<string, string>({ max: 10_000 })
  const keyOf = (tokenId: string): string => {
    let key = keys.get(tokenId)
    if (key === undefined) {
      key = globalKey(secret, 'rev', tokenId)
      keys.set(tokenId, key)
    }
    return key
  }

  return {
    async revoke (tokenId, expiresAt) {
      let expiry = expiresAt instanceof Date ? expiresAt.getTime() : expiresAt
      // Guard against a caller passing Unix seconds: read as ms it would look
      // long expired and the revocation would be silently dropped.
      if (expiry < 1e11) expiry *= 1000
      // An expired token is refused anyway: nothing to remember.
      if (!Number.isFinite(expiry) || expiry <= Date.now()) return
      const ttl = Math.ceil((expiry - Date.now()) / 1000) + slack
      const key = keyOf(tokenId)
      local.set(key, true, ttl * 1000)
      await store.set(key, MARK, ttl)
    },

    async isRevoked (tokenId) {
      const key = keyOf(tokenId)
      if (local.has(key)) return true
      return (await store.get(key)) !== null
    },
  }
}
