/**
 * A set whose members expire, bounded in entries, that costs memory only for
 * what it holds: an LRUCache preallocates arrays for its `max` entries (about
 * 28 MB for the revocation list's million, at idle). Members are evicted
 * oldest-first only when the set is full and a sweep of expired members
 * freed nothing.
 */
export class ExpiringSet {
  readonly #expiries = new Map<string, number>()

  constructor (private readonly max: number, private readonly now: () => number = Date.now) {}

  get size (): number {
    return this.#expiries.size
  }

  add (member: string, ttlMs: number): void {
    this.#expiries.delete(member) // re-added members move to the end (newest)
    if (this.#expiries.size >= this.max) this.#makeRoom()
    this.#expiries.set(member, this.now() + ttlMs)
  }

  has (member: string): boolean {
    const expiry = this.#expiries.get(member)
    if (expiry === undefined) return false
    if (expiry > this.now()) return true
    this.#expiries.delete(member)
    return false
  }

  #makeRoom (): void {
    const now = this.now()
    for (const [member, expiry] of this.#expiries) if (expiry <= now) this.#expiries.delete(member)
    for (const member of this.#expiries.keys()) {
      if (this.#expiries.size < this.max) break
      this.#expiries.delete(member)
    }
  }
}
