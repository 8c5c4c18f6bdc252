/**
 * Cached, batched message reads.
 *
 * Content at a MessageKey never changes (IMAP mailbox+UIDVALIDITY+UID, POP3
 * UIDL), so a parsed message is cached for a long time. What can change —
 * keywords with their modseq, and whether the message still exists — is rechecked with a cheap
 * backend call once the entry is older than the staleness bound, so nothing
 * mutable is ever served staler than that bound.
 *
 * Concurrent misses for one message share one upstream fetch (single-flight),
 * and misses in one call are fetched in one batched backend call.
 */
import { singleFlight } from '../cache/single-flight.ts'
import type { AccountContext, MailBackend, MessageKey, MessageRecord } from './backend.ts'
import type { CachePort } from './cache-port.ts'
import { GatewayError } from './errors.ts'
import { Freshness, type FreshnessView } from './freshness.ts'
import type { MailboxValidators } from './mailbox-validators.ts'
import { type CachedMessage, type MessageStore, messageRef } from './message-store.ts'

/** The longest a mailbox validator alone confirms an entry before it is rechecked itself. */
const VALIDATOR_MAX_AGE_MS = 60_000

export interface ReaderOptions {
  cache: CachePort
  stalenessMs: number
  /** Bound of the in-process memo of decoded messages (bytes). */
  memoBytes?: number
  /** The service's one freshness module (shared with the writes); default: one of its own. */
  freshness?: Freshness
}

/** Per-message outcomes since start: plain counters, read by the opt-in debug stats. */
export interface ReaderStats {
  /** Served from the cache, fresh enough. */
  hits: number
  /** Cached but older than the staleness bound: rechecked upstream (cheap call). */
  revalidated: number
  /** Not cached: fetched and parsed. */
  misses: number
}

function sameKeywords (a: string[] | null, b: string[] | null): boolean {
  if (a === null || b === null) return a === b
  return a.length === b.length && a.every((k, i) => k === b[i])
}

type Saver = (key: MessageKey, record: MessageRecord, validator: string | null) => Promise<void>

export class MessageReader {
  readonly #flights = singleFlight<string, MessageRecord | null>()
  readonly stats: ReaderStats = { hits: 0, revalidated: 0, misses: 0 }
  readonly #validators: MailboxValidators
  readonly #store: MessageStore
  readonly #fresh: Freshness

  constructor (private readonly opts: ReaderOptions) {
    this.#fresh = opts.freshness ?? new Freshness(opts.cache, opts.stalenessMs, opts.memoBytes)
    this.#validators = this.#fresh.validators
    this.#store = this.#fresh.store
  }

  /** The entry as this read may use it: none when its mailbox's ids were retired after it was checked. */
  async #cached (ctx: AccountContext, key: MessageKey, view: FreshnessView): Promise<CachedMessage | null> {
    const entry = await this.#store.get(ctx, key, view.epoch)
    const retiredAt = view.retiredAt(key.mailbox)
    return entry !== null && retiredAt !== undefined && retiredAt >= entry.checkedAt ? null : entry
  }

  /** One result per key, in order: the record, or null when the message does not exist. */
  async read (backend: MailBackend, ctx: AccountContext, keys: MessageKey[]): Promise<Array<MessageRecord | null>> {
    const view = await this.#fresh.view(ctx)
    const now = Date.now()
    const results: Array<MessageRecord | null> = new Array(keys.length).fill(null)
    const cached = await Promise.all(keys.map(k => this.#cached(ctx, k, view)))

    const stale: number[] = []
    const missing: number[] = []
    cached.forEach((entry, i) => {
      if (entry === null) missing.push(i)
      else if (now - entry.checkedAt > this.opts.stalenessMs) stale.push(i)
      else results[i] = entry.record
    })
    this.stats.hits += keys.length - stale.length - missing.length

    const validators = new Map<string, string | null>()
    if (stale.length > 0 || missing.length > 0) {
      const mailboxes = new Set([...stale, ...missing].map(i => keys[i]!.mailbox))
      await Promise.all([...mailboxes].map(async m => { validators.set(m, await this.#validators.get(backend, ctx, m, view.epoch)) }))
    }

    // Still under an unchanged mailbox validator: nothing in that mailbox changed.
    // A safety net bounds how long a validator alone may vouch for an entry, in
    // case a server's FETCH answered from a view older than its STATUS.
    const unchanged = stale.filter(i => {
      const entry = cached[i]!
      const v = entry.validator
      return v !== undefined && v !== null && v === validators.get(keys[i]!.mailbox) && now - entry.checkedAt <= VALIDATOR_MAX_AGE_MS
    })
    for (const i of unchanged) results[i] = cached[i]!.record
    this.stats.hits += unchanged.length
    const recheck = stale.filter(i => !unchanged.includes(i))

    const save = this.#saver(ctx, view)
    if (recheck.length > 0) {
      if (backend.revalidate === undefined) {
        missing.push(...recheck)
      } else {
        this.stats.revalidated += recheck.length
        const states = await backend.revalidate(ctx, recheck.map(i => keys[i]!))
        await Promise.all(recheck.map(async (i, j) => {
          const state = states[j]
          const entry = cached[i]!
          if (state === null || state === undefined) {
            await this.#store.del(ctx, keys[i]!)
            return
          }
          const validator = validators.get(keys[i]!.mailbox) ?? null
          if (sameKeywords(entry.record.keywords, state.keywords) && entry.record.modseq === state.modseq) {
            // Unchanged: the same record (its presented form stays memoised) and only
            // the confirmation time moves, in process; the shared copy is not rewritten.
            results[i] = entry.record
            this.#store.touch(ctx, keys[i]!, { record: entry.record, checkedAt: Date.now(), validator }, view.epoch)
            return
          }
          const record = { ...entry.record, keywords: state.keywords, modseq: state.modseq }
          results[i] = record
          await save(keys[i]!, record, validator)
        }))
      }
    }

    if (missing.length > 0) {
      this.stats.misses += missing.length
      const fetched = await this.#fetch(backend, ctx, missing.map(i => keys[i]!), validators, save)
      missing.forEach((i, j) => { results[i] = fetched[j] ?? null })
    }
    return results
  }

  /**
   * Is the message still there? For content served from another cache (raw
   * sources): answered from a fresh entry or an unchanged mailbox validator
   * when possible, else with one cheap upstream check. Throws not-found (or
   * the backend's stale-id / auth errors).
   */
  async confirm (backend: MailBackend, ctx: AccountContext, key: MessageKey): Promise<void> {
    const view = await this.#fresh.view(ctx)
    const entry = await this.#cached(ctx, key, view)
    const now = Date.now()
    if (entry !== null && now - entry.checkedAt <= this.opts.stalenessMs) return
    if (entry?.validator != null && now - entry.checkedAt <= VALIDATOR_MAX_AGE_MS &&
      entry.validator === await this.#validators.get(backend, ctx, key.mailbox, view.epoch)) return
    if (backend.revalidate === undefined) {
      await this.readOne(backend, ctx, key)
      return
    }
    const [state] = await backend.revalidate(ctx, [key])
    if (state === null || state === undefined) {
      if (entry !== null) await this.#store.del(ctx, key)
      throw new GatewayError('not-found', 'no such message in this mailbox')
    }
  }

  /**
   * Records this process holds decoded, null elsewhere: no upstream call and no
   * shared-cache read (a list page must not fetch and decrypt whole messages to
   * learn one field of each).
   */
  peek (ctx: AccountContext, keys: MessageKey[]): Array<MessageRecord | null> {
    return keys.map(k => this.#store.local(ctx, k)?.record ?? null)
  }

  async readOne (backend: MailBackend, ctx: AccountContext, key: MessageKey): Promise<MessageRecord> {
    const [record] = await this.read(backend, ctx, [key])
    if (record === null || record === undefined) throw new GatewayError('not-found', 'no such message in this mailbox')
    return record
  }

  /**
   * Misses go through the shared single-flight (src/cache): a key already in
   * flight joins that fetch; the keys that start a flight here are collected
   * and fetched in one batched backend call.
   */
  async #fetch (backend: MailBackend, ctx: AccountContext, keys: MessageKey[], validators: Map<string, string | null>, save: Saver): Promise<Array<MessageRecord | null>> {
    const starting: MessageKey[] = []
    let batch: Promise<Array<MessageRecord | null>> | undefined
    return Promise.all(keys.map(k => this.#flights(messageRef(ctx.accountId, k), async () => {
      const index = starting.push(k) - 1
      await Promise.resolve() // every key of this call is collected before the batch starts
      batch ??= backend.getMessages(ctx, starting)
      const record = (await batch)[index] ?? null
      if (record !== null) await save(k, record, validators.get(k.mailbox) ?? null)
      return record
    })))
  }

  /**
   * Saves what this read learnt upstream, unless a write changed the account
   * meanwhile (its epoch moved, asked once per read): an answer taken before
   * the write must not overwrite the entry the write left.
   */
  #saver (ctx: AccountContext, view: FreshnessView): Saver {
    let current: Promise<boolean> | undefined
    return async (key, record, validator) => {
      current ??= this.#fresh.epoch(ctx).then(e => e === view.epoch)
      if (!(await current)) return
      await this.#store.set(ctx, key, { record, checkedAt: Date.now(), validator } satisfies CachedMessage, view.epoch)
    }
  }
}
