/**
 * What a `GET /v1/events` request asks for, checked: the filters (mailbox ids
 * decoded inside the caller's account, known event types) and where to
 * resume (`Last-Event-ID`, or `lastEventId` for an EventSource reopened with
 * a new ticket). Anything malformed is a 400, never a 500.
 */
import { GatewayError } from '../mail/errors.ts'
import { eventId, EVENT_TYPES, isEventType, type MailEvent, type MailEventType } from '../mail/events.ts'
import { decodeMailboxId, encodeMailboxId } from '../mail/ids.ts'
import type { Caller } from '../mail/service-types.ts'
import type { StreamFilter } from './sse-stream.ts'

/** Mailbox ids one stream may name. */
export const MAX_FILTER_MAILBOXES = 100
const EVENT_ID_RE = /^ev_[A-Za-z0-9_-]{32}$/

export interface EventsQuery {
  mailboxIds?: string
  types?: string
  ticket?: string
  lastEventId?: string
}

function list (raw: string | undefined): string[] | null {
  if (raw === undefined) return null
  return raw.split(',').map((s) => s.trim()).filter((s) => s !== '')
}

export function streamFilter (caller: Caller, query: EventsQuery): StreamFilter {
  const ids = list(query.mailboxIds)
  if (ids !== null && ids.length > MAX_FILTER_MAILBOXES) throw new GatewayError('bad-request', `at most ${MAX_FILTER_MAILBOXES} mailboxIds`)
  const accountId = caller.account.id
  // the canonical id of each (a foreign id is 404, a malformed one 400): events carry canonical ids
  const mailboxIds = ids === null ? null : new Set(ids.map((id) => encodeMailboxId(accountId, decodeMailboxId(accountId, id))))
  const names = list(query.types)
  let types: Set<MailEventType> | null = null
  if (names !== null) {
    types = new Set()
    for (const name of names) {
      if (!isEventType(name)) throw new GatewayError('bad-request', `unknown event type; known: ${EVENT_TYPES.join(', ')}`)
      types.add(name)
    }
  }
  return { mailboxIds, types }
}

/** The event id to resume after, null for none; anything but an event id is 400. */
export function resumeAfter (header: string | string[] | undefined, query: string | undefined): string | null {
  const raw = Array.isArray(header) ? header[0] : header ?? query
  if (raw === undefined || raw.trim() === '') return null
  if (!EVENT_ID_RE.test(raw.trim())) throw new GatewayError('bad-request', 'Last-Event-ID is not an event id')
  return raw.trim()
}

/** The `stream.reset` a resumed stream starts with when its id is unknown or no longer retained. */
export function resetEvent (accountId: string, lastEventId: string, now = new Date()): MailEvent {
  return {
    id: eventId({ accountId, mailboxId: null, type: 'stream.reset', before: lastEventId, after: null, discriminator: now.toISOString() }),
    type: 'stream.reset',
    accountId,
    mailboxId: null,
    state: null,
    at: now.toISOString(),
  }
}
