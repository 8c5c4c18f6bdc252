/**
 * Idempotency-Key records (draft-ietf-httpapi-idempotency-key-header): per
 * account and key, either "running" (the first request has not answered) or
 * the first answer with the fingerprint of the request that produced it.
 *
 * Durable state, not a cache entry: like token revocations, each record is
 * kept both in the shared cache (sealed per account, so every instance
 * sharing it sees it) and in this process's own bounded map, which no cache
 * eviction can reach. A record lives 24 h at least.
 *
 * Limitation: the shared store has no atomic set-if-absent, so two instances
 * receiving the same new key in the same few milliseconds may both run; one
 * instance never does (the local map is checked and set synchronously).
 */
import { ExpiringMap } from '../util/expiring-map.ts'
import type { CachePort } from './cache-port.ts'
import { GatewayError } from './errors.ts'

export interface StoredAnswer {
  status: number
  headers: Record<string, string>
  body: string
}

type Entry =
  | { state: 'running', at: number }
  | { state: 'done', fingerprint: string, answer: StoredAnswer }

export type Begun = { state: 'new' } | { state: 'done', fingerprint: string, answer: StoredAnswer }

const KIND = 'idem'
/** 27 h: the shared cache may shorten a TTL by a tenth, and a record must outlive 24 h. */
const DONE_TTL_SECONDS = 27 * 3600
/** A first request that never finishes (the instance died) frees its key after this. */
const RUNNING_TTL_SECONDS = 15 * 60
/** The draft leaves the syntax to the resource: visible ASCII, bounded. */
const KEY = /^[\x21-\x7e]{1,255}$/

export function checkIdempotencyKey (key: string): string {
  const bare = key.startsWith('"') && key.endsWith('"') && key.length >= 2 ? key.slice(1, -1) : key
  if (!KEY.test(bare)) throw new GatewayError('bad-request', 'Idempotency-Key must be 1–255 visible ASCII characters')
  return bare
}

export class IdempotencyRecords {
  readonly #local: ExpiringMap<Entry>

  constructor (private readonly cache: CachePort, maxLocal = 100_000) {
    this.#local = new ExpiringMap<Entry>(maxLocal)
  }

  #id (accountId: string, key: string): string {
    return `${accountId}\n${key}`
  }

  async #get (accountId: string, key: string): Promise<Entry | null> {
    const local = this.#local.get(this.#id(accountId, key))
    if (local !== undefined) return local
    return await this.cache.forAccount(accountId).getJson<Entry>(KIND, [key])
  }

  async #set (accountId: string, key: string, entry: Entry, ttlSeconds: number): Promise<void> {
    this.#local.set(this.#id(accountId, key), entry, ttlSeconds * 1000)
    await this.cache.forAccount(accountId).setJson(KIND, [key], entry, ttlSeconds)
  }

  /**
   * Claims the key for a first request ('new'), or hands back the first
   * answer ('done'; the caller compares fingerprints). 409 while the first
   * request with this key still runs.
   */
  async begin (accountId: string, key: string): Promise<Begun> {
    const id = this.#id(accountId, key)
    const local = this.#local.get(id)
    // claimed before the first await: a second request in this process sees it at once
    if (local === undefined) this.#local.set(id, { state: 'running', at: Date.now() }, RUNNING_TTL_SECONDS * 1000)
    const found = local ?? await this.cache.forAccount(accountId).getJson<Entry>(KIND, [key])
    if (found?.state === 'running') {
      // another instance's first request: not ours to remember as running
      if (local === undefined) this.#local.delete(id)
      throw new GatewayError('idempotency-conflict', 'a request with this Idempotency-Key is still being processed', { retryAfter: 1 })
    }
    if (found?.state === 'done') {
      this.#local.set(id, found, DONE_TTL_SECONDS * 1000)
      return found
    }
    await this.#set(accountId, key, { state: 'running', at: Date.now() }, RUNNING_TTL_SECONDS)
    return { state: 'new' }
  }

  /** The first answer, kept for retries. */
  async finish (accountId: string, key: string, fingerprint: string, answer: StoredAnswer): Promise<void> {
    await this.#set(accountId, key, { state: 'done', fingerprint, answer }, DONE_TTL_SECONDS)
  }

  /** The first request failed in a way a retry may mend (5xx, or its body was never read whole): free the key. */
  async abandon (accountId: string, key: string): Promise<void> {
    this.#local.delete(this.#id(accountId, key))
    await this.cache.forAccount(accountId).del(KIND, [key])
  }

  /** For tests and diagnostics. */
  async peek (accountId: string, key: string): Promise<Entry | null> {
    return await this.#get(accountId, key)
  }
}
