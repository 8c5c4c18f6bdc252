/**
 * Token revocations (DELETE /v1/sessions/current), kept until the token's own
 * expiry.
 *
 * One small interface, Revocations (the core's RevocationStore), over two layers:
 * - the shared list every instance reads (Redis: redis-revocations.ts). A
 *   revocation resolves only once it is stored there; when it cannot be
 *   stored, revoke() rejects and the caller says so (503: the client retries),
 *   so a revocation is never acknowledged and then lost;
 * - an in-process list of what this instance revoked, consulted first: it
 *   keeps refusing those tokens even while the shared list is unreachable,
 *   and without Redis it is the only list (an in-process cache is one
 *   instance's state anyway).
 * A read is answered from this instance's copy of the shared list
 * (revocation-mirror.ts) while that copy is known to be current; otherwise it
 * asks the shared list, and when that cannot be read it rejects: the token is
 * refused (503), never served unchecked (docs/security.md).
 */
import { LRUCache } from 'lru-cache'
import { ExpiringMap } from '../util/expiring-map.ts'
import { globalKey } from './keys.ts'

export interface Revocations {
  /**
   * `expiresAt`: the token's expiry (ms since epoch, or a Date; Unix seconds
   * are recognised). Resolves once every instance will see the revocation;
   * rejects when it could not be stored.
   */
  revoke: (tokenId: string, expiresAt: number | Date) => Promise<void>
  /** Rejects when the answer cannot be known (the shared list is out of reach): refuse the token. */
  isRevoked: (tokenId: string) => Promise<boolean>
}

/** The list shared by every instance. Members are keyed HMACs of token ids. */
export interface SharedRevocationList {
  /** Keeps `member` until `untilMs` (ms since epoch); rejects when it was not stored. */
  add: (member: string, untilMs: number) => Promise<void>
  /** True when `member` is listed and not expired; rejects when the list cannot be read (fail closed). */
  has: (member: string) => Promise<boolean>
}

export interface RevocationOptions {
  /** Bound of the in-process list (entries). Default 1 000 000 (~100 MB worst case). */
  maxLocal?: number
  /** Seconds kept beyond the expiry, to cover clock skew between instances. Default 60. */
  slackSeconds?: number
}

/** `shared` null: no shared list (in-process cache), the local list is the store. */
export function createRevocations (shared: SharedRevocationList | null, secret: Buffer, opts: RevocationOptions = {}): Revocations {
  const slackMs = (opts.slackSeconds ?? 60) * 1000
  const local = new ExpiringMap<true>(opts.maxLocal ?? 1_000_000)
  // The member is an HMAC: memoised for the tokens in use (one lookup per request).
  const members = new LRUCache<string, string>({ max: 10_000 })
  const memberOf = (tokenId: string): string => {
    let member = members.get(tokenId)
    if (member === undefined) {
      member = globalKey(secret, 'rev', tokenId)
      members.set(tokenId, member)
    }
    return member
  }

  return {
    async revoke (tokenId, expiresAt) {
      let expiry = expiresAt instanceof Date ? expiresAt.getTime() : expiresAt
      // Guard against a caller passing Unix seconds: read as ms it would look
      // long expired and the revocation would be silently dropped.
      if (expiry < 1e11) expiry *= 1000
      // An expired token is refused anyway: nothing to remember.
      if (!Number.isFinite(expiry) || expiry <= Date.now()) return
      const until = expiry + slackMs
      const member = memberOf(tokenId)
      // Shared first: a revocation that was refused (503) must stay repeatable
      // here, so it is not remembered locally either.
      await shared?.add(member, until)
      local.set(member, true, until - Date.now())
    },

    async isRevoked (tokenId) {
      const member = memberOf(tokenId)
      if (local.has(member)) return true
      if (shared === null) return false
      return await shared.has(member)
    },
  }
}
