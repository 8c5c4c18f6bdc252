/**
 * A process-wide budget of bytes, shared fairly between groups (accounts).
 *
 * The gateway holds a message's octets, and what the parser builds from them,
 * only while it reads that message; the budget bounds how much of that exists
 * at once across all requests and accounts, so a burst of large reads waits
 * instead of taking the heap past its cap.
 *
 * - One group (an account) holds at most `groupShare` of the capacity, so a slow
 *   or hostile mail server stalls its own account's reads first. A single request
 *   larger than the share is charged in full (the bound is about real memory):
 *   it waits until its group holds nothing, and may then take up to the whole
 *   budget, alone in its group.
 * - Waiters are served first come, first served among the groups that have room,
 *   so a large request is not starved by a stream of small ones.
 * - A request asks once for all it needs, never while holding part of it (no
 *   hold-and-wait, so no deadlock); a permit asked again gives back first.
 *
 *   const permit = budget.permit(accountId)
 *   try { await permit.acquire(bytes); …read and parse… } finally { permit.release() }
 */

/** PARSE_BUDGET_BYTES' default: message octets held for reading and parsing at once, process-wide. */
export const DEFAULT_PARSE_BUDGET_BYTES = 64 * 1024 * 1024
/** The most of the budget one group may hold. */
const DEFAULT_GROUP_SHARE = 1 / 4

let processBudget: ByteBudget | undefined

/** The one default budget of the process, for backends built without one (tests, embedders). */
export function defaultParseBudget (): ByteBudget {
  return (processBudget ??= new ByteBudget(DEFAULT_PARSE_BUDGET_BYTES))
}

export interface Waiter { group: string, bytes: number, grant: () => void }

export interface BudgetStats {
  capacity: number
  available: number
  waiting: number
}

export class ByteBudget {
  readonly capacity: number
  /** The most one group holds, unless a single request of it needs more. */
  readonly share: number
  #free: number
  readonly #queue: Waiter[] = []
  readonly #held = new Map<string, number>()

  constructor (capacity: number, opts: { groupShare?: number } = {}) {
    if (!Number.isFinite(capacity) || capacity < 1) throw new RangeError('capacity must be ≥ 1 byte')
    this.capacity = Math.floor(capacity)
    this.share = Math.max(1, Math.floor(this.capacity * Math.min(1, opts.groupShare ?? DEFAULT_GROUP_SHARE)))
    this.#free = this.capacity
  }

  permit (group = ''): Permit {
    return new Permit(this, group)
  }

  stats (): BudgetStats {
    return { capacity: this.capacity, available: this.#free, waiting: this.#queue.length }
  }

  /** The bytes actually taken for a request of `bytes`: at least 1, at most the capacity. */
  clamp (bytes: number): number {
    return Number.isFinite(bytes) ? Math.min(this.capacity, Math.max(1, Math.ceil(bytes))) : this.capacity
  }

  /** @internal: Permit's side. Takes `w.bytes` (clamped) now, or queues `w`; true when taken now. */
  take (w: Waiter): boolean {
    this.#queue.push(w)
    this.#grant()
    return !this.#queue.includes(w)
  }

  /**
   * @internal: Permit's side. A waiter that gave up leaves the queue (and may
   * unblock the ones behind it); false when it was granted already.
   */
  cancel (w: Waiter): boolean {
    const i = this.#queue.indexOf(w)
    if (i === -1) return false
    this.#queue.splice(i, 1)
    this.#grant()
    return true
  }

  /** @internal: Permit's side. */
  give (group: string, bytes: number): void {
    const held = (this.#held.get(group) ?? 0) - bytes
    if (held > 0) this.#held.set(group, held)
    else this.#held.delete(group)
    this.#free = Math.min(this.capacity, this.#free + bytes)
    this.#grant()
  }

  /**
   * Serves waiters in order. A waiter whose group is at its share is passed by
   * other groups (never by its own: FIFO within a group); the first other one
   * that does not fit stops the scan (FIFO across groups).
   */
  #grant (): void {
    const atShare = new Set<string>()
    for (let i = 0; i < this.#queue.length;) {
      const w = this.#queue[i]!
      const held = this.#held.get(w.group) ?? 0
      // over the share: only a group holding nothing may take more (one large request)
      if (atShare.has(w.group) || (held > 0 && held + w.bytes > this.share)) {
        atShare.add(w.group)
        i++
        continue
      }
      if (w.bytes > this.#free) return
      this.#queue.splice(i, 1)
      this.#free -= w.bytes
      this.#held.set(w.group, held + w.bytes)
      w.grant()
    }
  }
}

export class Permit {
  #held = 0
  #waiter: Waiter | null = null
  #released = false
  #cancelled = false

  constructor (private readonly budget: ByteBudget, private readonly group: string) {}

  /**
   * Waits for `bytes` of the budget (at most the capacity). Asked again,
   * it first gives back what it holds, so a permit never waits while holding.
   * release() while waiting leaves the queue at once, and this resolves holding
   * nothing.
   */
  async acquire (bytes: number): Promise<void> {
    if (this.#released) return
    this.reset()
    const n = this.budget.clamp(bytes)
    let grant!: () => void
    const granted = new Promise<void>(resolve => { grant = resolve })
    const w: Waiter = { group: this.group, bytes: n, grant }
    this.#waiter = w
    if (!this.budget.take(w)) await granted
    this.#waiter = null
    if (this.#released) {
      if (!this.#cancelled) this.budget.give(this.group, n) // granted on its way: hand it back
      return
    }
    this.#held = n
  }

  /** Gives back what this permit holds now; it can acquire again (an operation retried). */
  reset (): void {
    const held = this.#held
    this.#held = 0
    if (held > 0) this.budget.give(this.group, held)
  }

  /** Gives back everything and stops waiting; later calls do nothing. */
  release (): void {
    if (this.#released) return
    this.#released = true
    const w = this.#waiter
    if (w !== null && this.budget.cancel(w)) {
      // never granted: wake the waiting acquire() so the abandoned operation ends, with nothing to give back
      this.#cancelled = true
      w.grant()
    }
    this.reset()
  }
}
