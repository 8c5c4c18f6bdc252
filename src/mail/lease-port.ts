/**
 * Which instance watches an account (contract §9): a lease with renewal and
 * fencing. In one process every lease is granted; with Redis one instance of
 * the deployment holds it, and another takes over within 30 s of its holder
 * dying (leases expire on Redis time, so instance clocks do not matter).
 */

export interface Lease {
  /** Grows with every grant of this lease name: a write made under an older token is stale. */
  readonly fencingToken: number
  /** Extends the lease; false when it was lost (expired and taken by another instance). */
  renew: () => Promise<boolean>
  /** Gives the lease up now (shutdown, last subscriber gone); idempotent. */
  release: () => Promise<void>
}

export interface Leases {
  /** The lease named `name` for `ttlMs`, or null while another instance holds it. */
  tryAcquire: (name: string, ttlMs: number) => Promise<Lease | null>
}

/** One process: every lease is granted (nothing else competes). */
export class LocalLeases implements Leases {
  readonly #held = new Map<string, number>()
  #next = 0

  async tryAcquire (name: string): Promise<Lease | null> {
    if (this.#held.has(name)) return null
    const token = ++this.#next
    this.#held.set(name, token)
    return {
      fencingToken: token,
      renew: async () => this.#held.get(name) === token,
      release: async () => { if (this.#held.get(name) === token) this.#held.delete(name) },
    }
  }
}
