/**
 * The account-scoped, encrypted cache API the mail service uses.
 *
 *   const c = sealed.forAccount(account.id)
 *   const list = await c.rememberJson('mailboxes', [], 60, () => backend.listMailboxes())
 *
 * Keys come from keys.ts (keyed hashes, per-account hash tag); values are
 * sealed with a key derived from the gateway secret and the account id, with
 * the cache key as AAD (seal.ts). So a value read through another account's
 * API, or moved to another key, fails authentication and reads as a miss.
 */
import { LRUCache } from 'lru-cache'
import type { CacheStore } from './cache.ts'
import { accountTag, cacheKey, deriveKey } from './keys.ts'
import type { KeyPart } from './keys.ts'
import { seal, unseal, type Pieces } from './seal.ts'
import { singleFlight } from './single-flight.ts'

export interface AccountCache {
  /** The storage key for (kind, parts): exposed for tests and diagnostics. */
  key: (kind: string, parts: readonly KeyPart[]) => string
  getBuffer: (kind: string, parts: readonly KeyPart[]) => Promise<Buffer | null>
  /**
   * `ttlSeconds` is an upper bound: the stored TTL is jittered down by up to 10 %.
   * A large value may be given in pieces (seal.ts), never held whole before it is sealed.
   */
  setBuffer: (kind: string, parts: readonly KeyPart[], value: Buffer | Pieces, ttlSeconds: number) => Promise<void>
  getJson: <T>(kind: string, parts: readonly KeyPart[]) => Promise<T | null>
  setJson: (kind: string, parts: readonly KeyPart[], value: unknown, ttlSeconds: number) => Promise<void>
  del: (kind: string, parts: readonly KeyPart[]) => Promise<void>
  /**
   * Cache-through: the cached value, or `load()` once for all concurrent
   * callers of this key in this process (single-flight), stored on success.
   * Errors from `load` propagate and are not cached.
   */
  rememberJson: <T>(kind: string, parts: readonly KeyPart[], ttlSeconds: number, load: () => Promise<T>) => Promise<T>
}

export interface SealedCache {
  forAccount: (accountId: string) => AccountCache
}

/** round(max × (1 − U[0, ratio])): never above `max`, so a TTL stays a staleness bound. */
export function ttlAtMost (maxSeconds: number, ratio = 0.1): number {
  return Math.max(1, Math.round(maxSeconds * (1 - Math.random() * ratio)))
}

export function createSealedCache (store: CacheStore, secret: Buffer): SealedCache {
  const aeadKeys = new LRUCache<string, Buffer>({ max: 10_000 })
  const tags = new LRUCache<string, string>({ max: 10_000 })
  const flights = singleFlight<string, unknown>()

  function aeadKey (accountId: string): Buffer {
    let k = aeadKeys.get(accountId)
    if (k === undefined) {
      k = deriveKey(secret, 'entry-aead', accountId)
      aeadKeys.set(accountId, k)
    }
    return k
  }

  function forAccount (accountId: string): AccountCache {
    if (accountId === '') throw new TypeError('accountId must not be empty')
    let tag = tags.get(accountId)
    if (tag === undefined) {
      tag = accountTag(secret, accountId)
      tags.set(accountId, tag)
    }
    const key = (kind: string, parts: readonly KeyPart[]): string => cacheKey(secret, tag, kind, ...parts)

    const getBuffer = async (kind: string, parts: readonly KeyPart[]): Promise<Buffer | null> => {
      const k = key(kind, parts)
      const raw = await store.get(k)
      if (raw === null) return null
      return await unseal(aeadKey(accountId), k, raw)
    }

    const setBuffer = async (kind: string, parts: readonly KeyPart[], value: Buffer | Pieces, ttlSeconds: number): Promise<void> => {
      const k = key(kind, parts)
      await store.set(k, await seal(aeadKey(accountId), k, value), ttlAtMost(ttlSeconds))
    }

    const getJson = async <T>(kind: string, parts: readonly KeyPart[]): Promise<T | null> => {
      const buf = await getBuffer(kind, parts)
      if (buf === null) return null
      try {
        return JSON.parse(buf.toString('utf8')) as T
      } catch {
        return null
      }
    }

    const setJson = async (kind: string, parts: readonly KeyPart[], value: unknown, ttlSeconds: number): Promise<void> => {
      await setBuffer(kind, parts, Buffer.from(JSON.stringify(value), 'utf8'), ttlSeconds)
    }

    const del = async (kind: string, parts: readonly KeyPart[]): Promise<void> => {
      await store.del(key(kind, parts))
    }

    const rememberJson = async <T>(kind: string, parts: readonly KeyPart[], ttlSeconds: number, load: () => Promise<T>): Promise<T> => {
      const k = key(kind, parts)
      return await (flights(k, async () => {
        const hit = await getJson<T>(kind, parts)
        if (hit !== null) return hit
        const value = await load()
        // A value that JSON cannot hold (undefined) is returned but not stored.
        if (value !== undefined) await setJson(kind, parts, value, ttlSeconds)
        return value
      }) as Promise<T>)
    }

    return { key, getBuffer, setBuffer, getJson, setJson, del, rememberJson }
  }

  return { forAccount }
}
