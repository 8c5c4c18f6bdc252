/**
 * A subscriber's event filter (contract §8: `mailboxIds`, `types`), checked
 * once when it subscribes, the same way for SSE and GraphQL: an unknown type
 * or a malformed mailbox id is `bad-request`, another account's mailbox id
 * `not-found`. Account-wide events (`stream.reset`, `account.error`) carry no
 * mailbox and pass a mailbox filter; `stream.reset` passes every filter, since
 * it tells the subscriber that it missed events it asked for.
 */
import { GatewayError } from './errors.ts'
import { EVENT_TYPES, isEventType, type MailEvent, type MailEventType } from './events.ts'
import { decodeMailboxId } from './ids.ts'

/** Mailbox ids one filter may name. */
export const MAX_FILTER_MAILBOXES = 100

export interface EventFilterInput {
  mailboxIds?: readonly string[] | null
  types?: readonly string[] | null
}

export interface EventFilter {
  /** null: every mailbox. */
  mailboxIds: ReadonlySet<string> | null
  /** null: every type. */
  types: ReadonlySet<MailEventType> | null
}

export function parseEventFilter (accountId: string, input: EventFilterInput): EventFilter {
  let mailboxIds: Set<string> | null = null
  if (input.mailboxIds != null) {
    if (input.mailboxIds.length === 0 || input.mailboxIds.length > MAX_FILTER_MAILBOXES) {
      throw new GatewayError('bad-request', `mailboxIds must name 1–${MAX_FILTER_MAILBOXES} mailboxes`)
    }
    // decoded inside the caller's account: malformed → bad-request, another account's → not-found
    for (const id of input.mailboxIds) decodeMailboxId(accountId, id)
    mailboxIds = new Set(input.mailboxIds)
  }
  let types: Set<MailEventType> | null = null
  if (input.types != null) {
    if (input.types.length === 0 || input.types.length > EVENT_TYPES.length) {
      throw new GatewayError('bad-request', `types must name 1–${EVENT_TYPES.length} event types`)
    }
    types = new Set()
    for (const type of input.types) {
      if (!isEventType(type)) throw new GatewayError('bad-request', `unknown event type; known types: ${EVENT_TYPES.join(', ')}`)
      types.add(type)
    }
  }
  return { mailboxIds, types }
}

export function matchesFilter (filter: EventFilter, event: MailEvent): boolean {
  if (event.type === 'stream.reset') return true
  if (filter.types !== null && !filter.types.has(event.type)) return false
  return filter.mailboxIds === null || event.mailboxId === null || filter.mailboxIds.has(event.mailboxId)
}
