/**
 * The watcher registry (implements Watching, watch-port.ts): one watcher per
 * account, reference-counted by the handles subscribers hold. The first
 * handle starts it; after the last one is released it keeps running for a
 * grace period (a reconnecting subscriber does not restart it), then stops
 * and gives its lease up. At most `maxAccounts` accounts are watched by this
 * instance: one more is `rate-limited` (429).
 */
import type { MailBackend } from './backend.ts'
import { GatewayError } from './errors.ts'
import type { EventBus } from './events.ts'
import type { Freshness } from './freshness.ts'
import type { Leases } from './lease-port.ts'
import type { WatchStateStore } from './watch-states.ts'
import { AccountWatcher, type AccountWatcherDeps, type WatchLog } from './account-watcher.ts'
import type { Caller } from './service-types.ts'
import type { Protocol } from './types.ts'
import type { WatchHandle, Watching } from './watch-port.ts'
import type { ChangeSource } from './watch-source.ts'

export interface WatchersOptions {
  backends: Record<Protocol, MailBackend>
  source: ChangeSource
  bus: EventBus
  freshness: Freshness
  /** Where the last states live (the shared cache); absent: each watcher starts from what it first sees. */
  states?: WatchStateStore
  leases: Leases
  /** WATCH_MAX_ACCOUNTS. */
  maxAccounts: number
  /** WATCH_POLL_MS: mailboxes other than INBOX (default 30 000). */
  pollMs: number
  /** POP3_POLL_MS (default 60 000). */
  pop3PollMs: number
  /** How long a watcher outlives its last handle (ms; default 30 000, at most 60 000). */
  graceMs: number
  leaseTtlMs?: number
  backoffMs?: number
  maxBackoffMs?: number
  log?: WatchLog
}

export const WATCH_DEFAULTS = { maxAccounts: 1000, pollMs: 30_000, pop3PollMs: 60_000, graceMs: 30_000 } as const
/** A lease outlives a dead holder this long: another instance takes over within it (contract §9: 30 s). */
const LEASE_TTL_MS = 30_000

interface Entry {
  watcher: AccountWatcher
  handles: number
  grace: NodeJS.Timeout | null
}

export class Watchers implements Watching {
  readonly #opts: WatchersOptions
  readonly #entries = new Map<string, Entry>()
  readonly #stopping = new Set<Promise<void>>()
  #closed = false

  constructor (opts: WatchersOptions) {
    this.#opts = opts
  }

  async acquire (caller: Caller): Promise<WatchHandle> {
    if (this.#closed) throw new GatewayError('unavailable', 'the gateway is shutting down')
    const accountId = caller.account.id
    let entry = this.#entries.get(accountId)
    if (entry === undefined) {
      if (this.#entries.size >= this.#opts.maxAccounts) {
        throw new GatewayError('rate-limited', 'this instance watches as many accounts as it may', { retryAfter: 60 })
      }
      entry = { watcher: new AccountWatcher(caller, this.#deps(caller)), handles: 0, grace: null }
      this.#entries.set(accountId, entry)
      entry.watcher.start()
    } else {
      entry.watcher.useCaller(caller)
    }
    if (entry.grace !== null) clearTimeout(entry.grace)
    entry.grace = null
    entry.handles++
    const held = entry
    let released = false
    return {
      release: () => {
        if (released) return
        released = true
        this.#release(accountId, held)
      },
    }
  }

  /** Accounts watched (or in their grace period) now. */
  get size (): number { return this.#entries.size }

  /** The account's watcher, if any (tests wait on its tracker). */
  watcherOf (accountId: string): AccountWatcher | undefined {
    return this.#entries.get(accountId)?.watcher
  }

  async close (): Promise<void> {
    this.#closed = true
    for (const [accountId, entry] of this.#entries) this.#stopEntry(accountId, entry)
    while (this.#stopping.size > 0) await Promise.allSettled([...this.#stopping])
  }

  #deps (caller: Caller): AccountWatcherDeps {
    const o = this.#opts
    return {
      backend: o.backends[caller.account.protocol],
      source: o.source,
      bus: o.bus,
      freshness: o.freshness,
      ...(o.states === undefined ? {} : { states: o.states }),
      leases: o.leases,
      pollMs: o.pollMs,
      pop3PollMs: o.pop3PollMs,
      leaseTtlMs: o.leaseTtlMs ?? LEASE_TTL_MS,
      backoffMs: o.backoffMs ?? 1000,
      maxBackoffMs: o.maxBackoffMs ?? 60_000,
      log: o.log,
    }
  }

  #release (accountId: string, entry: Entry): void {
    entry.handles--
    if (entry.handles > 0 || this.#entries.get(accountId) !== entry) return
    entry.grace = setTimeout(() => { this.#stopEntry(accountId, entry) }, this.#opts.graceMs)
    entry.grace.unref()
  }

  #stopEntry (accountId: string, entry: Entry): void {
    if (entry.grace !== null) clearTimeout(entry.grace)
    if (this.#entries.get(accountId) === entry) this.#entries.delete(accountId)
    const p = entry.watcher.stop().catch(() => {})
    this.#stopping.add(p)
    p.finally(() => this.#stopping.delete(p)).catch(() => {})
  }
}
