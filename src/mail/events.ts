/**
 * Events (contract §8): hints that something changed in an account, each
 * carrying the mailbox state to resume from with `changes`. Events are never
 * the truth; `changes` from a subscriber's last state is.
 *
 * This module is the port: what an event is, how its id is derived, and
 * what the core needs from an event bus. The bus implementations live in
 * src/events (in-process, and Redis for many instances).
 */
import { createHash } from 'node:crypto'
import type { Watching } from './watch-port.ts'

export const EVENT_TYPES = [
  'message.created', 'message.updated', 'message.deleted',
  'mailbox.created', 'mailbox.updated', 'mailbox.deleted', 'mailbox.reset',
  'stream.reset', 'account.error',
] as const

export type MailEventType = typeof EVENT_TYPES[number]

export function isEventType (value: string): value is MailEventType {
  return (EVENT_TYPES as readonly string[]).includes(value)
}

export interface MailEvent {
  /** Derived from the change (eventId below): the same change detected twice has the same id. */
  id: string
  type: MailEventType
  accountId: string
  /** Public mailbox id; null for account-wide events (`account.error`, `stream.reset`). */
  mailboxId: string | null
  /** The mailbox's state after the change (what `changes?since=` takes); null where none applies. */
  state: string | null
  /** ISO 8601 UTC: when the gateway saw the change. */
  at: string
  /** Public message ids (message.*). */
  messageIds?: string[]
  /** message.updated: each listed message's keywords after the change, by message id. */
  keywords?: Record<string, string[]>
  /** account.error: the error catalogue's code (auth-failed, upstream-unavailable, …). */
  code?: string
}

/**
 * An event id from what identifies the change: account, mailbox, type and the
 * states before and after (plus a discriminator where one state transition
 * yields several events). Stable across watchers, restarts and instances.
 */
export function eventId (parts: {
  accountId: string
  mailboxId: string | null
  type: MailEventType
  before: string | null
  after: string | null
  discriminator?: string
}): string {
  const h = createHash('sha256')
  for (const p of [parts.accountId, parts.mailboxId ?? '', parts.type, parts.before ?? '', parts.after ?? '', parts.discriminator ?? '']) {
    h.update(p).update('\u0000')
  }
  return 'ev_' + h.digest('base64url').slice(0, 32)
}

/** A live subscription on the bus; `close` is idempotent. */
export interface BusSubscription {
  close: () => void
}

/** Replay of an account's retained events after a given event id. */
export type Replay =
  | { found: true, events: MailEvent[] }
  /** The id is not (or no longer) in the retained window: the subscriber must resync (`stream.reset`). */
  | { found: false }

/**
 * The event bus. `publish` appends to the account's bounded log (at least the
 * last 1 000 events or 24 h), dropping an event whose id is already there, and
 * fans it out to `subscribe`rs on every instance sharing the bus. Listeners
 * are called synchronously per event and must not throw or block.
 */
export interface EventBus {
  publish: (event: MailEvent) => Promise<void>
  subscribe: (accountId: string, listener: (event: MailEvent) => void) => BusSubscription
  replayAfter: (accountId: string, lastEventId: string) => Promise<Replay>
  close: () => Promise<void>
}

/** Single-use values with an expiry (EventSource tickets): `take` yields a value at most once, on any instance. */
export interface OneTimeStore {
  put: (key: string, value: string, ttlMs: number) => Promise<void>
  take: (key: string) => Promise<string | null>
}

/**
 * What the subscriber faces (SSE, GraphQL subscriptions, webhooks) get from
 * composition: the bus, the watchers, and where tickets live.
 */
export interface Realtime {
  events: EventBus
  watching: Watching
  tickets: OneTimeStore
}
