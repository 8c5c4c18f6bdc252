/**
 * What the watchers (watchers.ts) need from a protocol backend, and from the
 * service that computes changes. Both are seams: the backend keeps one
 * long-lived connection that tells when something may have changed; the
 * service says what changed since a state. Events are made in the core.
 */
import type { AccountContext, MailboxRecord } from './backend.ts'
import type { MailboxChanges } from './changes-types.ts'
import type { Caller } from './service-types.ts'

/** A mailbox as one poll of the watch connection saw it. */
export interface PolledMailbox {
  record: MailboxRecord
  /**
   * Opaque token of everything a STATUS can tell (IMAP: UIDVALIDITY, UIDNEXT,
   * MESSAGES, HIGHESTMODSEQ): when it moves, the mailbox changed. null: the
   * mailbox is not polled (not subscribed, or watched by IDLE instead).
   */
  signature: string | null
}

/** Called by the backend's watch connection; must not throw. */
export interface WatchListener {
  /** The connection is up (first time or again): anything may have changed since the last known states. */
  connected: () => void
  /** A poll's view of the mailbox list (after every connect, then every poll interval). */
  listed: (mailboxes: PolledMailbox[]) => void
  /** The server said something changed in this mailbox (IMAP IDLE: EXISTS, EXPUNGE, FETCH). */
  changed: (path: string) => void
}

export interface WatchSession {
  /** Settles when the connection ends: with the error that ended it, or null when closed by `close`. */
  readonly ended: Promise<unknown>
  close: () => Promise<void>
}

export interface WatchSessionOptions {
  /** How often mailboxes other than the one pushed are polled (ms). */
  pollMs: number
}

/**
 * A backend that can hold a watch connection (MailBackend.watch). Resolves once
 * logged in and listening; rejects with a GatewayError (`auth-failed`: never
 * try this login again; anything else: try again later).
 */
export type WatchConnector = (ctx: AccountContext, listener: WatchListener, opts: WatchSessionOptions) => Promise<WatchSession>

/** `changes` as the watchers use it, by mailbox path. */
export type ChangesOutcome =
  | { kind: 'changes', changes: MailboxChanges }
  /** The changes cannot be computed from that state (UIDVALIDITY changed, snapshot gone): start again from the current state. */
  | { kind: 'reset' }

export interface ChangeSource {
  /** The mailbox's current state; null when it has none (then no message events are made for it). */
  state: (caller: Caller, path: string) => Promise<string | null>
  /** One page of changes since `since` (≤ `limit` ids). */
  changes: (caller: Caller, path: string, since: string, limit: number) => Promise<ChangesOutcome>
}
