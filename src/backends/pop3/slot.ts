/**
 * The book-keeping of one maildrop in MaildropSessions (sessions.ts): its
 * session, the QUITs a new login must wait for, and the queue of requests.
 */
import type { MaildropSession } from './session.ts'

export interface Slot {
  session: MaildropSession | null
  /** The previous sessions' QUIT, which a new login must wait for. */
  closing: Promise<void>
  closes: number
  /** Serialises acquisitions. */
  turn: Promise<unknown>
  waiting: number
  timer: NodeJS.Timeout | null
  /** The last failed login of the queue: requests of its settings queued before it failed share it. */
  failure: { hash: string, err: unknown, seq: number } | null
  failures: number
}

/** A request's place in a slot's queue. */
export interface Ticket {
  /** Gave up waiting: skip its turn. */
  gone: boolean
  /** The slot's failure count when it queued. */
  seen: number
}

export function emptySlot (): Slot {
  return { session: null, closing: Promise.resolve(), closes: 0, turn: Promise.resolve(), waiting: 0, timer: null, failure: null, failures: 0 }
}
