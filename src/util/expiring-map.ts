/**
 * A map whose entries expire, bounded in entries, that costs memory only for
 * what it holds (an LRUCache preallocates arrays for its `max`: about 28 MB for
 * the revocation list's million, at idle). When full, expired entries are
 * swept first and only then the oldest live ones go (Map order: a re-set entry
 * counts as new). Used for the revocation list (src/cache), the rate
 * limiter's windows (src/http) and the pool's remembered login failures (src/pool).
 */
export class ExpiringMap<V> {
  readonly #entries = new Map<string, { value: V, until: number }>()

  constructor (private readonly max: number, private readonly now: () => number = Date.now) {}

  get size (): number {
    return this.#entries.size
  }

  set (key: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0) return
    this.#entries.delete(key)
    if (this.#entries.size >= this.max) this.#makeRoom()
    this.#entries.set(key, { value, until: this.now() + ttlMs })
  }

  /** The value, or undefined when absent or expired. */
  get (key: string): V | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.until > this.now()) return entry.value
    this.#entries.delete(key)
    return undefined
  }

  delete (key: string): void {
    this.#entries.delete(key)
  }

  has (key: string): boolean {
    return this.get(key) !== undefined
  }

  #makeRoom (): void {
    const now = this.now()
    for (const [key, entry] of this.#entries) if (entry.until <= now) this.#entries.delete(key)
    for (const key of this.#entries.keys()) {
      if (this.#entries.size < this.max) break
      this.#entries.delete(key)
    }
  }
}
