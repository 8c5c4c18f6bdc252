/**
 * One watched account's view of its mailboxes: the last known state of each
 * watched mailbox and the list as last polled. A hint (IDLE, a poll that saw
 * a mailbox move, a reconnect) marks a mailbox dirty; dirty mailboxes are
 * reconciled one at a time by asking `changes` from the last state, page by
 * page, and each page becomes events on the bus and goes through the
 * freshness module (so cached messages, counts and lists stay right).
 *
 * Event ids come from eventId() over the states before and after: the same
 * change found twice (after a reconnect, by another instance from the same
 * state) has the same id.
 */
import type { MailboxRecord } from './backend.ts'
import type { MailboxChanges } from './changes-types.ts'
import { eventId, type EventBus, type MailEvent, type MailEventType } from './events.ts'
import type { Freshness } from './freshness.ts'
import { decodeMessageId, encodeMailboxId } from './ids.ts'
import type { Caller } from './service-types.ts'
import type { ChangeSource, PolledMailbox } from './watch-source.ts'
import type { WatchStateStore } from './watch-states.ts'

/** Ids per changes page (and so per event at most). */
export const WATCH_PAGE = 256
/** Pages read per reconcile before the mailbox is put back in the queue (others get a turn). */
const MAX_PAGES = 64

export interface TrackerDeps {
  caller: () => Caller
  source: ChangeSource
  bus: EventBus
  freshness: Freshness
  /** Last states shared by every watcher of the account (absent: this tracker's own only). */
  states?: WatchStateStore
  /** A reconcile failed (the mailbox stays dirty and is tried at the next hint). */
  onError: (err: unknown, path: string) => void
}

interface Known {
  record: MailboxRecord
  signature: string | null
  /** null: no state yet (not fetched, or the mailbox has none). */
  state: string | null
}

const LIST_KEYS = ['name', 'parentPath', 'role', 'isSubscribed'] as const

/** What a mailbox event's id is derived from: the properties that make it "updated". */
function shapeOf (r: MailboxRecord): string {
  return JSON.stringify(LIST_KEYS.map(k => r[k]))
}

/** A mailbox is watched for messages when subscribed, and INBOX always. */
export function isWatched (r: MailboxRecord): boolean {
  return r.isSubscribed || r.role === 'inbox' || r.path.toUpperCase() === 'INBOX'
}

export class MailboxTracker {
  readonly #deps: TrackerDeps
  readonly #known = new Map<string, Known>()
  readonly #dirty = new Set<string>()
  #running: Promise<void> | null = null
  #listed = false
  #stopped = false

  constructor (deps: TrackerDeps) {
    this.#deps = deps
  }

  get #accountId (): string { return this.#deps.caller().account.id }

  /** Every watched mailbox is to be reconciled (after a connect). */
  markAll (): void {
    for (const [path, k] of this.#known) if (isWatched(k.record)) this.#dirty.add(path)
    this.#kick()
  }

  /** The server said this mailbox changed. */
  mark (path: string): void {
    const k = this.#known.get(path)
    if (k !== undefined && !isWatched(k.record)) return
    this.#dirty.add(path)
    this.#kick()
  }

  /** A poll's view of the list: mailbox events, and a reconcile of every mailbox whose signature moved. */
  async listed (mailboxes: PolledMailbox[]): Promise<void> {
    const first = !this.#listed
    this.#listed = true
    const seen = new Set<string>()
    const events: MailEvent[] = []
    for (const { record, signature } of mailboxes) {
      seen.add(record.path)
      const before = this.#known.get(record.path)
      if (before === undefined) {
        this.#known.set(record.path, { record, signature, state: null })
        if (!first) events.push(this.#mailboxEvent('mailbox.created', record, null, shapeOf(record)))
        if (isWatched(record)) this.#dirty.add(record.path)
        continue
      }
      if (shapeOf(before.record) !== shapeOf(record)) events.push(this.#mailboxEvent('mailbox.updated', record, shapeOf(before.record), shapeOf(record)))
      const moved = signature !== before.signature
      before.record = record
      before.signature = signature
      if (isWatched(record) && (moved || before.state === null)) this.#dirty.add(record.path)
    }
    const gone = [...this.#known.values()].filter(k => !seen.has(k.record.path))
    for (const k of gone) {
      this.#known.delete(k.record.path)
      this.#dirty.delete(k.record.path)
      events.push(this.#mailboxEvent('mailbox.deleted', k.record, shapeOf(k.record), null))
    }
    if (events.length > 0) {
      await this.#deps.freshness.mailboxesChanged(this.#deps.caller().ctx, gone.map(k => k.record.path))
      for (const e of events) await this.#deps.bus.publish(e)
    }
    this.#kick()
  }

  /** The last known state of a mailbox (null: none yet). */
  stateOf (path: string): string | null {
    return this.#known.get(path)?.state ?? null
  }

  /** Resolves when no reconcile is running or queued (tests, shutdown). */
  async idle (): Promise<void> {
    while (this.#running !== null) await this.#running
  }

  stop (): void {
    this.#stopped = true
    this.#dirty.clear()
  }

  #kick (): void {
    if (this.#running !== null || this.#stopped) return
    this.#running = this.#drain().finally(() => {
      this.#running = null
      // a hint that came in while the last reconcile was finishing
      if (this.#dirty.size > 0 && !this.#stopped) this.#kick()
    })
  }

  async #drain (): Promise<void> {
    for (const path of this.#dirty) {
      if (this.#stopped) return
      this.#dirty.delete(path)
      try {
        if (!(await this.#reconcile(path))) this.#dirty.add(path)
      } catch (err) {
        this.#deps.onError(err, path)
      }
    }
  }

  /** False when more pages are left (the mailbox goes back in the queue). */
  async #reconcile (path: string): Promise<boolean> {
    const known = this.#known.get(path)
    if (known === undefined) return true
    const caller = this.#deps.caller()
    if (known.state === null) {
      // first sight: from where the last watcher of this account left off (another
      // instance before a takeover, or this one before its last subscriber left);
      // without one, changes are counted from here
      const saved = await this.#deps.states?.get(caller.account.id, path) ?? null
      if (saved === null) {
        known.state = await this.#deps.source.state(caller, path)
        await this.#save(path, known.state)
        return true
      }
      known.state = saved
    }
    for (let page = 0; page < MAX_PAGES; page++) {
      if (this.#stopped || this.#known.get(path) !== known) return true
      const outcome = await this.#deps.source.changes(caller, path, known.state, WATCH_PAGE)
      if (outcome.kind === 'reset') {
        const before = known.state
        known.state = await this.#deps.source.state(caller, path)
        await this.#deps.freshness.mailboxesChanged(caller.ctx, [path])
        await this.#deps.bus.publish(this.#event('mailbox.reset', path, before, known.state))
        await this.#save(path, known.state)
        return true
      }
      await this.#publishChanges(path, outcome.changes)
      known.state = outcome.changes.newState
      // saved only once its events are on the bus: a watcher that dies before has them found again
      await this.#save(path, known.state)
      if (!outcome.changes.hasMoreChanges) return true
    }
    return false
  }

  async #save (path: string, state: string | null): Promise<void> {
    if (state !== null) await this.#deps.states?.set(this.#accountId, path, state)
  }

  async #publishChanges (path: string, c: MailboxChanges): Promise<void> {
    const caller = this.#deps.caller()
    const { ctx, account } = caller
    const keysOf = (ids: string[]): ReturnType<typeof decodeMessageId>[] => ids.map(id => decodeMessageId(ctx.accountId, account.protocol, id))
    if (c.created.length > 0) await this.#deps.freshness.added(ctx)
    if (c.destroyed.length > 0) await this.#deps.freshness.removed(ctx, keysOf(c.destroyed))
    // keywords learnt here carry no MODSEQ: the cached entries are forgotten, not rewritten
    if (c.updated.length > 0) await this.#deps.freshness.keywordsChanged(ctx, keysOf(c.updated).map(key => ({ key, state: null })))
    const parts: Array<[MailEventType, string[]]> = [['message.created', c.created], ['message.updated', c.updated], ['message.deleted', c.destroyed]]
    for (const [type, ids] of parts) {
      if (ids.length === 0) continue
      const event = this.#event(type, path, c.oldState, c.newState)
      event.messageIds = ids
      if (type === 'message.updated' && c.keywords !== undefined) {
        const keywords = c.keywords
        event.keywords = Object.fromEntries(ids.flatMap(id => keywords[id] === undefined ? [] : [[id, keywords[id]]]))
      }
      await this.#deps.bus.publish(event)
    }
  }

  #event (type: MailEventType, path: string, before: string | null, after: string | null): MailEvent {
    const accountId = this.#accountId
    const mailboxId = encodeMailboxId(accountId, path)
    return { id: eventId({ accountId, mailboxId, type, before, after }), type, accountId, mailboxId, state: after, at: new Date().toISOString() }
  }

  #mailboxEvent (type: MailEventType, record: MailboxRecord, before: string | null, after: string | null): MailEvent {
    const event = this.#event(type, record.path, before, after)
    event.state = this.#known.get(record.path)?.state ?? null
    return event
  }
}
