/**
 * KeyedPool's book-keeping for a group gate (PoolOptions.gate): which groups
 * the gate refused lately (not asked again until a retry time or a wake), and
 * which groups another process is waiting for (the next resource of such a
 * group that comes back is closed instead of reused, so its slot moves on).
 */
export class GateState {
  readonly #refused = new Map<string, NodeJS.Timeout>()
  readonly #wanted = new Map<string, number>()

  refused (group: string): boolean {
    return this.#refused.has(group)
  }

  /** The gate had no slot: ask again after `retryMs`, when `retry` runs (or at clear()). */
  refuse (group: string, retryMs: number, retry: () => void): void {
    if (this.#refused.has(group)) return
    this.#refused.set(group, setTimeout(() => {
      this.#refused.delete(group)
      retry()
    }, retryMs))
  }

  /** A slot may be free: ask the gate again at once. */
  clear (group: string): void {
    clearTimeout(this.#refused.get(group))
    this.#refused.delete(group)
  }

  /** Another process waits for a slot of the group, for the next `forMs`. */
  want (group: string, forMs: number): void {
    this.#wanted.set(group, Date.now() + forMs)
  }

  /** True once per want(): the resource coming back should be closed. */
  takeWanted (group: string): boolean {
    const until = this.#wanted.get(group)
    if (until === undefined) return false
    this.#wanted.delete(group)
    return until >= Date.now()
  }

  close (): void {
    for (const t of this.#refused.values()) clearTimeout(t)
    this.#refused.clear()
    this.#wanted.clear()
  }
}
