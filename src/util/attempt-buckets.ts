/**
 * Token buckets per key in process memory (the login throttle's AttemptCounter,
 * src/mail/login-throttle.ts): each key holds up to `limit` attempts and
 * regains `limit` per window. Bounded in keys like the other per-client maps
 * (ExpiringMap): a bucket untouched for a whole window is full again, so it is
 * dropped then, and when full the oldest go first.
 */
import { ExpiringMap } from './expiring-map.ts'

interface Bucket { tokens: number, at: number }

export interface BucketKey {
  key: string
  limit: number
}

const MAX_KEYS = 100_000

export class AttemptBuckets {
  readonly #buckets: ExpiringMap<Bucket>

  constructor (private readonly now: () => number = Date.now) {
    this.#buckets = new ExpiringMap<Bucket>(MAX_KEYS, now)
  }

  /** Tokens of the key now (refilled for the time passed). */
  #level (k: BucketKey, windowMs: number, now: number): Bucket {
    const b = this.#buckets.get(k.key)
    if (b === undefined) return { tokens: k.limit, at: now }
    return { tokens: Math.min(k.limit, b.tokens + (now - b.at) * k.limit / windowMs), at: now }
  }

  async take (keys: BucketKey[], windowMs: number): Promise<number> {
    const now = this.now()
    const levels = keys.map(k => this.#level(k, windowMs, now))
    const short = levels.map((b, i) => b.tokens >= 1 ? 0 : Math.ceil((1 - b.tokens) * windowMs / (keys[i]?.limit ?? 1)))
    const wait = Math.max(0, ...short)
    if (wait > 0) return wait
    keys.forEach((k, i) => this.#store(k.key, { tokens: (levels[i]?.tokens ?? k.limit) - 1, at: now }, windowMs))
    return 0
  }

  async giveBack (keys: BucketKey[], windowMs: number): Promise<void> {
    const now = this.now()
    for (const k of keys) {
      const b = this.#level(k, windowMs, now)
      this.#store(k.key, { tokens: Math.min(k.limit, b.tokens + 1), at: now }, windowMs)
    }
  }

  #store (key: string, b: Bucket, windowMs: number): void {
    this.#buckets.set(key, b, windowMs)
  }
}
