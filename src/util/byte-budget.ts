/**
 * A process-wide budget of bytes, handed out first come, first served.
 *
 * The gateway holds a message's octets, and what the parser builds from them,
 * only while it reads that message; the budget bounds how much of that exists
 * at once across all requests and accounts, so a burst of large reads waits
 * instead of taking the heap past its cap. A request asks once for all it
 * needs (never while holding part of it: no hold-and-wait, no deadlock); a
 * request larger than the whole budget gets the whole budget, alone.
 *
 *   const permit = budget.permit()
 *   try { await permit.acquire(bytes); …read and parse… } finally { permit.release() }
 */

/** PARSE_BUDGET_BYTES' default: message octets held for reading and parsing at once, process-wide. */
export const DEFAULT_PARSE_BUDGET_BYTES = 64 * 1024 * 1024

interface Waiter { bytes: number, grant: () => void }

export interface BudgetStats {
  capacity: number
  available: number
  waiting: number
}

export class ByteBudget {
  readonly capacity: number
  #free: number
  readonly #queue: Waiter[] = []

  constructor (capacity: number) {
    if (!Number.isFinite(capacity) || capacity < 1) throw new RangeError('capacity must be ≥ 1 byte')
    this.capacity = Math.floor(capacity)
    this.#free = this.capacity
  }

  /** A holder of budget that can be released once, whatever it acquired (also before it was granted). */
  permit (): Permit {
    return new Permit(this)
  }

  stats (): BudgetStats {
    return { capacity: this.capacity, available: this.#free, waiting: this.#queue.length }
  }

  /** The bytes actually taken for a request of `bytes`: at least 1, at most the capacity. */
  clamp (bytes: number): number {
    return Number.isFinite(bytes) ? Math.min(this.capacity, Math.max(1, Math.ceil(bytes))) : this.capacity
  }

  /** @internal: Permit's side. Resolves once `bytes` (clamped) are taken. */
  take (bytes: number): Promise<void> {
    // FIFO: while anyone waits, a newcomer queues too, so a large request is never starved.
    if (this.#queue.length === 0 && this.#free >= bytes) {
      this.#free -= bytes
      return Promise.resolve()
    }
    return new Promise(resolve => { this.#queue.push({ bytes, grant: resolve }) })
  }

  /** @internal: Permit's side. */
  give (bytes: number): void {
    this.#free = Math.min(this.capacity, this.#free + bytes)
    while (this.#queue.length > 0 && this.#queue[0]!.bytes <= this.#free) {
      const next = this.#queue.shift()!
      this.#free -= next.bytes
      next.grant()
    }
  }
}

export class Permit {
  #held = 0
  #released = false

  constructor (private readonly budget: ByteBudget) {}

  /**
   * Waits for `bytes` of the budget. Asked again (an operation retried on a new
   * connection), it first gives back what it holds: a permit never waits while
   * holding, so permits cannot deadlock. After release() (e.g. the request timed
   * out while waiting) a late grant is handed straight back, so nothing leaks.
   */
  async acquire (bytes: number): Promise<void> {
    if (this.#released) return
    if (this.#held > 0) {
      this.budget.give(this.#held)
      this.#held = 0
    }
    const n = this.budget.clamp(bytes)
    await this.budget.take(n)
    if (this.#released) {
      this.budget.give(n)
      return
    }
    this.#held += n
  }

  /** Gives back all this permit holds; later calls do nothing. */
  release (): void {
    if (this.#released) return
    this.#released = true
    const held = this.#held
    this.#held = 0
    if (held > 0) this.budget.give(held)
  }
}
