/**
 * The in-process event bus (one instance, no Redis): per account a log of the
 * retained events plus the live listeners.
 *
 * Retention: an account's log keeps at least its last `minEvents` events or
 * everything younger than `retainMs`, whichever is more (contract §8: 1 000
 * events or 24 h). Memory stays bounded whatever the traffic: at most
 * `maxEvents` per account, `maxAccounts` logs and `maxBytes` in total; past a
 * bound the least recently published accounts lose their oldest events first.
 * A replay from a trimmed id answers `found: false`, and the subscriber
 * resyncs with `changes` (`stream.reset`), so trimming never loses truth.
 *
 * Dedup: an event whose id is in the account's log is dropped (not appended,
 * not delivered). The same change detected twice carries the same id.
 */
import type { BusSubscription, EventBus, MailEvent, Replay } from '../mail/events.ts'
import { AccountListeners } from './listeners.ts'

export interface RetentionLimits {
  /** Keep at least this many events per account (default 1 000). */
  minEvents: number
  /** Keep at least this long per account (ms; default 24 h). */
  retainMs: number
  /** Hard cap per account (default 10 000). */
  maxEvents: number
  /** Hard cap on accounts with a log (default 10 000). */
  maxAccounts: number
  /** Hard cap on the estimated bytes of every log together (default 64 MiB). */
  maxBytes: number
}

export const DEFAULT_RETENTION: RetentionLimits = {
  minEvents: 1000,
  retainMs: 24 * 60 * 60 * 1000,
  maxEvents: 10_000,
  maxAccounts: 10_000,
  maxBytes: 64 * 1024 * 1024,
}

interface Entry {
  event: MailEvent
  /** Time of publication (ms), for the time bound. */
  at: number
  bytes: number
}

/** Map and object overhead of one retained event, beyond its JSON (an estimate). */
const ENTRY_OVERHEAD = 160

/** One account's retained events, oldest first, with an id index for dedup and replay. */
export class EventLog {
  readonly #entries: Entry[] = []
  /** Index in #entries = position - #head; positions only grow. */
  readonly #positions = new Map<string, number>()
  #head = 0
  bytes = 0

  get size (): number { return this.#entries.length }
  has (id: string): boolean { return this.#positions.has(id) }
  oldestAt (): number | undefined { return this.#entries[0]?.at }

  append (event: MailEvent, at: number): number {
    const bytes = Buffer.byteLength(JSON.stringify(event)) + ENTRY_OVERHEAD
    this.#positions.set(event.id, this.#head + this.#entries.length)
    this.#entries.push({ event, at, bytes })
    this.bytes += bytes
    return bytes
  }

  /** Drops the oldest event; its estimated bytes, 0 when empty. */
  dropOldest (): number {
    const first = this.#entries.shift()
    if (first === undefined) return 0
    this.#positions.delete(first.event.id)
    this.#head++
    this.bytes -= first.bytes
    return first.bytes
  }

  /** The events after `id`, oldest first; undefined when `id` is not retained. */
  after (id: string): MailEvent[] | undefined {
    const pos = this.#positions.get(id)
    if (pos === undefined) return undefined
    return this.#entries.slice(pos - this.#head + 1).map((e) => e.event)
  }
}

export interface MemoryBusOptions {
  retention?: Partial<RetentionLimits>
  /** Clock (ms); tests move it. */
  now?: () => number
}

export class MemoryEventBus implements EventBus {
  readonly #limits: RetentionLimits
  readonly #now: () => number
  /** Insertion order = least recently published first. */
  readonly #logs = new Map<string, EventLog>()
  readonly #listeners = new AccountListeners()
  #bytes = 0
  #closed = false

  constructor (opts: MemoryBusOptions = {}) {
    this.#limits = { ...DEFAULT_RETENTION, ...opts.retention }
    this.#now = opts.now ?? Date.now
  }

  async publish (event: MailEvent): Promise<void> {
    if (this.#closed) return
    if (this.#record(event)) this.#listeners.deliver(event)
  }

  /** Appends to the account's log unless the id is there already; true when appended. */
  #record (event: MailEvent): boolean {
    let log = this.#logs.get(event.accountId)
    if (log?.has(event.id) === true) return false
    if (log === undefined) log = new EventLog()
    else this.#logs.delete(event.accountId)
    this.#logs.set(event.accountId, log)
    this.#bytes += log.append(event, this.#now())
    this.#trim(event.accountId, log)
    return true
  }

  subscribe (accountId: string, listener: (event: MailEvent) => void): BusSubscription {
    return this.#listeners.add(accountId, listener)
  }

  /** Live subscriptions for the account on this instance (tests, metrics). */
  listenerCount (accountId: string): number {
    return this.#listeners.count(accountId)
  }

  async replayAfter (accountId: string, lastEventId: string): Promise<Replay> {
    const events = this.#logs.get(accountId)?.after(lastEventId)
    return events === undefined ? { found: false } : { found: true, events }
  }

  /** Estimated bytes and accounts retained (tests, metrics). */
  stats (): { bytes: number, accounts: number, events: number } {
    let events = 0
    for (const log of this.#logs.values()) events += log.size
    return { bytes: this.#bytes, accounts: this.#logs.size, events }
  }

  async close (): Promise<void> {
    this.#closed = true
    this.#logs.clear()
    this.#listeners.clear()
    this.#bytes = 0
  }

  #trim (accountId: string, log: EventLog): void {
    const { minEvents, retainMs, maxEvents, maxAccounts, maxBytes } = this.#limits
    const cutoff = this.#now() - retainMs
    // the account's own bounds: beyond minEvents only what is younger than retainMs, never beyond maxEvents
    while (log.size > maxEvents || (log.size > minEvents && (log.oldestAt() ?? Infinity) < cutoff)) {
      this.#bytes -= log.dropOldest()
    }
    // the process's bounds: the least recently published accounts give way first
    for (const [id, victim] of this.#logs) {
      if (this.#logs.size <= maxAccounts && this.#bytes <= maxBytes) break
      if (id === accountId && this.#logs.size === 1) {
        // the only account left: keep at least its newest event
        while (this.#bytes > maxBytes && victim.size > 1) this.#bytes -= victim.dropOldest()
        break
      }
      if (this.#logs.size > maxAccounts) {
        this.#bytes -= victim.bytes
        this.#logs.delete(id)
        continue
      }
      while (this.#bytes > maxBytes && victim.size > 0) this.#bytes -= victim.dropOldest()
      if (victim.size === 0) this.#logs.delete(id)
    }
  }
}
