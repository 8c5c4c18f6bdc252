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
 * - A request asks once for all it needs, never while holding part of it; a
 *   permit asked again gives back first.
 * - A wait is bounded (`maxWaitMs`): past it, acquire() answers false, and the
 *   caller reports the gateway busy instead of queueing without end.
 * - Nobody should wait for the budget while holding a pooled connection: it would
 *   sit idle, and the operation's deadline would blame the mail server. Callers
 *   under a lease use tryAcquire() and, refused, give the lease back before they
 *   wait. So the order is always budget, then connection: a read granted the
 *   budget may wait for a connection (bounded by the pool), never the reverse,
 *   and there is no deadlock.
 *
 *   const permit = budget.permit(accountId)
 *   try { if (await permit.acquire(bytes)) …read and parse… } finally { permit.release() }
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

  /** How long acquire() waits before it gives up (ms; Infinity: as long as it takes). */
  readonly maxWaitMs: number

  constructor (capacity: number, opts: { groupShare?: number, maxWaitMs?: number } = {}) {
    if (!Number.isFinite(capacity) || capacity < 1) throw new RangeError('capacity must be ≥ 1 byte')
    this.capacity = Math.floor(capacity)
    // setTimeout fires at once past 2^31 - 1 ms: a longer bound is no bound
    const wait = opts.maxWaitMs ?? Infinity
    this.maxWaitMs = wait >= 2 ** 31 ? Infinity : Math.max(0, wait)
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
  /** Gives up the wait in progress (release() or the wait bound); null when not waiting. */
  #drop: (() => void) | null = null
  #released = false

  constructor (private readonly budget: ByteBudget, private readonly group: string) {}

  /**
   * Waits for `bytes` of the budget (at most the capacity); true once held.
   * Asked again, it first gives back what it holds, so a permit never waits
   * while holding. False, holding nothing, when the budget's `maxWaitMs` passed
   * first or release() was called meanwhile (it leaves the queue at once).
   */
  async acquire (bytes: number): Promise<boolean> {
    if (this.#released) return false
    this.reset()
    const n = this.budget.clamp(bytes)
    let dropped = false
    let wake!: () => void
    const woken = new Promise<void>(resolve => { wake = resolve })
    const w: Waiter = { group: this.group, bytes: n, grant: () => wake() }
    if (!this.budget.take(w)) {
      // granted on the way (cancel finds it gone): the continuation below takes it
      this.#drop = () => { if (this.budget.cancel(w)) { dropped = true; wake() } }
      const timer = Number.isFinite(this.budget.maxWaitMs) ? setTimeout(this.#drop, this.budget.maxWaitMs) : undefined
      await woken
      clearTimeout(timer)
      this.#drop = null
    }
    if (dropped) return false
    if (this.#released) {
      this.budget.give(this.group, n) // granted on its way out: hand it back
      return false
    }
    this.#held = n
    return true
  }

  /**
   * Takes `bytes` only if the budget grants them now (never ahead of earlier
   * waiters); otherwise holds nothing. For callers holding something the budget's
   * wait must not hold up (a pooled connection): they give it back, acquire(), and
   * come back.
   */
  tryAcquire (bytes: number): boolean {
    if (this.#released) return false
    this.reset()
    const n = this.budget.clamp(bytes)
    const w: Waiter = { group: this.group, bytes: n, grant: () => {} }
    if (!this.budget.take(w)) {
      this.budget.cancel(w)
      return false
    }
    this.#held = n
    return true
  }

  /** What a caller under a lease may take without waiting: held already, or free now. */
  hold (bytes: number): boolean {
    return this.covers(bytes) || this.tryAcquire(bytes)
  }

  /** True when this permit already holds what `bytes` is charged. */
  covers (bytes: number): boolean {
    return this.#held > 0 && this.#held >= this.budget.clamp(bytes)
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
    this.#drop?.()
    this.reset()
  }
}
