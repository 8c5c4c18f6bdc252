/**
 * Concurrency budgets for login attempts that have not yet authenticated
 * (session creation), shared by both backends. Such an attempt may meet a server
 * that accepts and never greets, and then waits the whole upstream timeout; held
 * in the connection pool or a maildrop's queue, a flood of them would starve the
 * accounts already logged in. Here they hold only their own budgets:
 *
 * - per client address (the caller's, as the face reports it), per target host
 *   (the name asked for) and in total, each a count of attempts in flight;
 * - an attempt that does not fit waits (FIFO, without blocking later ones that
 *   fit) at most `waitMs`, then gets 429 `rate-limited` with Retry-After: the
 *   gateway is busy with logins, the mail server is not to blame;
 * - once logged in, a connection leaves the budget and joins the pool (or the
 *   maildrop) like any other, if there is room there.
 */
import { GatewayError } from '../mail/errors.ts'

export interface LoginBudgetLimits {
  /** Attempts in flight per client address. */
  perClient: number
  /** Attempts in flight per target host. */
  perHost: number
  /** Attempts in flight in the whole process. */
  total: number
  /** How long an attempt waits for room before 429 (ms). */
  waitMs: number
}

/** Generous enough for a burst of real users behind one address, small next to the pool. */
export const DEFAULT_LOGIN_BUDGET: LoginBudgetLimits = { perClient: 8, perHost: 16, total: 64, waitMs: 15_000 }

interface Waiter {
  client: string
  host: string
  grant: () => void
  timer: NodeJS.Timeout
}

export class LoginBudget {
  readonly #limits: LoginBudgetLimits
  readonly #byClient = new Map<string, number>()
  readonly #byHost = new Map<string, number>()
  #total = 0
  #waiters: Waiter[] = []

  constructor (limits: LoginBudgetLimits = DEFAULT_LOGIN_BUDGET) {
    this.#limits = limits
  }

  /** Attempts in flight and waiting (for tests and debug stats). */
  stats (): { inFlight: number, waiting: number } {
    return { inFlight: this.#total, waiting: this.#waiters.length }
  }

  /** Waits for room for one attempt; returns its release (idempotent). */
  async enter (client: string, host: string): Promise<() => void> {
    const h = host.toLowerCase()
    if (this.#fits(client, h)) return this.#take(client, h)
    return await new Promise((resolve, reject) => {
      const waiter: Waiter = {
        client,
        host: h,
        grant: () => resolve(this.#take(client, h)),
        timer: setTimeout(() => {
          this.#waiters = this.#waiters.filter(w => w !== waiter)
          const retryAfter = Math.max(1, Math.ceil(this.#limits.waitMs / 1000))
          reject(new GatewayError('rate-limited', 'Too many logins are in progress for this client or mail host; retry shortly', { retryAfter }))
        }, this.#limits.waitMs),
      }
      this.#waiters.push(waiter)
    })
  }

  /** Runs `fn` inside the budget. */
  async run<T> (client: string, host: string, fn: () => Promise<T>): Promise<T> {
    const release = await this.enter(client, host)
    try {
      return await fn()
    } finally {
      release()
    }
  }

  #fits (client: string, host: string): boolean {
    return this.#total < this.#limits.total &&
      (this.#byClient.get(client) ?? 0) < this.#limits.perClient &&
      (this.#byHost.get(host) ?? 0) < this.#limits.perHost
  }

  #take (client: string, host: string): () => void {
    this.#total++
    bump(this.#byClient, client, 1)
    bump(this.#byHost, host, 1)
    let released = false
    return () => {
      if (released) return
      released = true
      this.#total--
      bump(this.#byClient, client, -1)
      bump(this.#byHost, host, -1)
      this.#dispatch()
    }
  }

  #dispatch (): void {
    for (const w of [...this.#waiters]) {
      if (!this.#fits(w.client, w.host)) continue
      clearTimeout(w.timer)
      this.#waiters = this.#waiters.filter(x => x !== w)
      w.grant()
    }
  }
}

function bump (counts: Map<string, number>, key: string, delta: number): void {
  const n = (counts.get(key) ?? 0) + delta
  if (n <= 0) counts.delete(key)
  else counts.set(key, n)
}
