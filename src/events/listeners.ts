/**
 * This instance's subscribers, by account: what both buses deliver to. The
 * hooks tell a bus when an account gains its first listener and loses its
 * last, so the Redis bus subscribes to an account's channel only while
 * someone here listens.
 */
import type { BusSubscription, MailEvent } from '../mail/events.ts'

export type Listener = (event: MailEvent) => void

export interface ListenerHooks {
  first?: (accountId: string) => void
  last?: (accountId: string) => void
}

export class AccountListeners {
  readonly #byAccount = new Map<string, Set<Listener>>()

  constructor (private readonly hooks: ListenerHooks = {}) {}

  add (accountId: string, listener: Listener): BusSubscription {
    let set = this.#byAccount.get(accountId)
    if (set === undefined) {
      set = new Set()
      this.#byAccount.set(accountId, set)
      this.hooks.first?.(accountId)
    }
    // a wrapper per subscription: the same function subscribed twice is two subscriptions
    const own: Listener = (event) => { listener(event) }
    set.add(own)
    return {
      close: () => {
        const current = this.#byAccount.get(accountId)
        if (current === undefined || !current.delete(own)) return
        if (current.size > 0) return
        this.#byAccount.delete(accountId)
        this.hooks.last?.(accountId)
      },
    }
  }

  /** Calls the account's listeners; one that throws (it must not) does not starve the others. */
  deliver (event: MailEvent): void {
    const set = this.#byAccount.get(event.accountId)
    if (set === undefined) return
    for (const listener of [...set]) {
      try {
        listener(event)
      } catch {
        // the port forbids throwing; a listener that does loses only its own event
      }
    }
  }

  count (accountId: string): number {
    return this.#byAccount.get(accountId)?.size ?? 0
  }

  accounts (): string[] {
    return [...this.#byAccount.keys()]
  }

  clear (): void {
    this.#byAccount.clear()
  }
}
