/**
 * Idempotency-Key records (draft-ietf-httpapi-idempotency-key-header): per
 * account and key, either "running" (the first request has not answered) or
 * the first answer with the fingerprint of the request that produced it.
 *
 * Durable state, not a cache entry: with Redis the records live where
 * revocations do, in keys without a TTL that no `volatile-*` eviction
 * reaches (src/cache/redis-idempotency.ts), and a key is claimed there
 * atomically, so of several instances receiving the same new key at once
 * exactly one runs it. This process's own bounded map is consulted first
 * and, without Redis, is the store. A record lives 24 h at least.
 */
import { ExpiringMap } from '../util/expiring-map.ts'
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

/**
 * Records every instance shares (implemented in src/cache). Values are opaque
 * strings kept until `untilMs` (ms since epoch); every method rejects when the
 * store cannot be reached.
 */
export interface SharedIdempotencyRecords {
  /** Stores `value` unless a live record is there: null when this call claimed the key, else that record. */
  claim: (accountId: string, key: string, value: string, untilMs: number) => Promise<string | null>
  put: (accountId: string, key: string, value: string, untilMs: number) => Promise<void>
  get: (accountId: string, key: string) => Promise<string | null>
  delete: (accountId: string, key: string) => Promise<void>
}

/** 24 h and a minute of clock skew between instances. */
const DONE_MS = (24 * 3600 + 60) * 1000
/** A first request that never finishes (the instance died) frees its key after this. */
const RUNNING_MS = 15 * 60 * 1000
/** The draft leaves the syntax to the resource: visible ASCII, bounded. */
const KEY = /^[\x21-\x7e]{1,255}$/

/**
 * Whether an answer is kept for retries: not a 5xx (the retry may mend it)
 * nor a 429 (the request was turned away before it ran; the retry Retry-After
 * asks for must run), unless the request passed its commit point.
 */
export function keepsAnswer (status: number, committed: boolean): boolean {
  return committed || (status < 500 && status !== 429)
}

export function checkIdempotencyKey (key: string): string {
  const bare = key.startsWith('"') && key.endsWith('"') && key.length >= 2 ? key.slice(1, -1) : key
  if (!KEY.test(bare)) throw new GatewayError('bad-request', 'Idempotency-Key must be 1–255 visible ASCII characters')
  return bare
}

export class IdempotencyRecords {
  readonly #local: ExpiringMap<Entry>

  /** `shared` null: no shared store (in-process cache), the local map is the store. */
  constructor (private readonly shared: SharedIdempotencyRecords | null, maxLocal = 100_000) {
    this.#local = new ExpiringMap<Entry>(maxLocal)
  }

  #id (accountId: string, key: string): string {
    return `${accountId}\n${key}`
  }

  /**
   * Claims the key for a first request ('new'), or hands back the first
   * answer ('done'; the caller compares fingerprints). 409 while the first
   * request with this key still runs; 503 when the shared store cannot be
   * reached (running the request then could run it twice).
   */
  async begin (accountId: string, key: string): Promise<Begun> {
    const id = this.#id(accountId, key)
    const local = this.#local.get(id)
    if (local?.state === 'running') throw running()
    if (local?.state === 'done') return local
    // claimed before the first await: a second request in this process sees it at once
    const claim: Entry = { state: 'running', at: Date.now() }
    this.#local.set(id, claim, RUNNING_MS)
    if (this.shared === null) return { state: 'new' }
    let found: Entry
    try {
      const current = await this.shared.claim(accountId, key, JSON.stringify(claim), Date.now() + RUNNING_MS)
      if (current === null) return { state: 'new' }
      found = JSON.parse(current) as Entry
    } catch (err) {
      this.#local.delete(id)
      throw new GatewayError('unavailable', 'Idempotency-Key records cannot be reached; repeat the request', { retryAfter: 1, cause: err })
    }
    if (found.state === 'running') {
      // another instance's first request: not ours to remember as running
      this.#local.delete(id)
      throw running()
    }
    this.#local.set(id, found, DONE_MS)
    return found
  }

  /** The first answer, kept for retries. */
  async finish (accountId: string, key: string, fingerprint: string, answer: StoredAnswer): Promise<void> {
    const entry: Entry = { state: 'done', fingerprint, answer }
    this.#local.set(this.#id(accountId, key), entry, DONE_MS)
    // the answer is on its way whatever happens here; unshared, other instances
    // answer 409 until the claim lapses, never run the request again
    await this.shared?.put(accountId, key, JSON.stringify(entry), Date.now() + DONE_MS).catch(() => {})
  }

  /**
   * The first request passed the point after which it must not run again
   * even if it fails (a send whose message text started to flow): the claim
   * is kept for the records' whole lifetime, so a retry is a 409 until the
   * first answer is stored, even if this instance dies first.
   */
  async commit (accountId: string, key: string): Promise<void> {
    const entry: Entry = { state: 'running', at: Date.now() }
    this.#local.set(this.#id(accountId, key), entry, DONE_MS)
    try {
      await this.shared?.put(accountId, key, JSON.stringify(entry), Date.now() + DONE_MS)
    } catch (err) {
      throw new GatewayError('unavailable', 'Idempotency-Key records cannot be reached; repeat the request', { retryAfter: 1, cause: err })
    }
  }

  /** The first request failed in a way a retry may mend (5xx, or its body was never read whole): free the key. */
  async abandon (accountId: string, key: string): Promise<void> {
    this.#local.delete(this.#id(accountId, key))
    // not freed there: the claim lapses after RUNNING_MS
    await this.shared?.delete(accountId, key).catch(() => {})
  }

  /** For tests and diagnostics. */
  async peek (accountId: string, key: string): Promise<Entry | null> {
    const local = this.#local.get(this.#id(accountId, key))
    if (local !== undefined || this.shared === null) return local ?? null
    const shared = await this.shared.get(accountId, key)
    return shared === null ? null : JSON.parse(shared) as Entry
  }
}

function running (): GatewayError {
  return new GatewayError('idempotency-conflict', 'a request with this Idempotency-Key is still being processed', { retryAfter: 1 })
}
