/**
 * Mailbox state and changes (contract §8), as the core exposes them to the
 * faces and to watchers. IMAP: the state is an authenticated encoding of
 * (UIDVALIDITY, HIGHESTMODSEQ, UIDNEXT), so changes are computed from the
 * server with nothing stored. POP3: it names a UIDL snapshot in the cache.
 */

/** RFC 8620 §5.2 semantics: an id is in at most one list; page by `newState` while `hasMoreChanges`. */
export interface MailboxChanges {
  oldState: string
  newState: string
  hasMoreChanges: boolean
  /** Public message ids. */
  created: string[]
  updated: string[]
  destroyed: string[]
  /** Keywords after the change of each id in `updated` (and `created` where known), by public id; for events. */
  keywords?: Record<string, string[]>
}

export interface ChangesInput {
  /** A state from `Mailbox.state`, a previous `newState` or an event; untrusted. */
  since: string
  /** 1..1000; the service's default when absent. */
  limit?: number
}

/** The longest `changes` page. */
export const MAX_CHANGES_LIMIT = 1000
