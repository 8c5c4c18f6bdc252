/**
 * KeyedPool's per-key records: the resources a key owns, its idle ones (most
 * recently used last), how many it is creating, and whether one was ever
 * created (its credentials work). A key without resources or creates is
 * dropped, so the map stays as small as what is live.
 */
import type { Item, KeyState } from './internals.ts'

export class KeyStates<R> {
  readonly #keys = new Map<string, KeyState<R>>()

  get (key: string): KeyState<R> | undefined {
    return this.#keys.get(key)
  }

  /** The key's record, made on first use. */
  of (key: string, group: string): KeyState<R> {
    let ks = this.#keys.get(key)
    if (ks === undefined) {
      ks = { group, idle: [], items: new Set(), creating: 0, proven: false }
      this.#keys.set(key, ks)
    }
    return ks
  }

  dropIfEmpty (key: string): void {
    const ks = this.#keys.get(key)
    if (ks !== undefined && ks.items.size === 0 && ks.creating === 0) this.#keys.delete(key)
  }

  /** The resource idle longest, of one group or of all (null). */
  oldestIdle (group: string | null): Item<R> | undefined {
    let oldest: Item<R> | undefined
    for (const ks of this.#keys.values()) {
      if (group !== null && ks.group !== group) continue
      const first = ks.idle[0]
      if (first !== undefined && (oldest === undefined || first.idleSince < oldest.idleSince)) oldest = first
    }
    return oldest
  }

  idleCount (): number {
    let idle = 0
    for (const ks of this.#keys.values()) idle += ks.idle.length
    return idle
  }
}
