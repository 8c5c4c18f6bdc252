/**
 * `messages(...)` on Query and Mailbox: the REST page as a Relay connection.
 * Same service call, same opaque cursors and same filters as
 * GET /v1/mailboxes/{mailboxId}/messages.
 */
import { GatewayError } from '../../mail/errors.ts'
import type { MessageFilter } from '../../mail/types.ts'
import type { ListMessagesInput } from '../../mail/service-types.ts'
import type { GatewayContext } from '../context.ts'
import type { InputMaybe, MessageFilter as MessageFilterInput, ResolversTypes } from '../generated.ts'

export interface ConnectionArgs {
  first?: InputMaybe<number>
  after?: InputMaybe<string>
  filter?: InputMaybe<MessageFilterInput>
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/
const MAX_TEXT = 1000

function date (name: string, raw: string): Date {
  const d = new Date(raw)
  if (!ISO_DATE.test(raw) || Number.isNaN(d.getTime())) {
    throw new GatewayError('bad-request', `filter.${name} must be an ISO 8601 date or date-time`)
  }
  return d
}

function text (name: string, raw: string): string {
  if (raw.length < 1 || raw.length > MAX_TEXT) {
    throw new GatewayError('bad-request', `filter.${name} must be 1–${MAX_TEXT} characters`)
  }
  return raw
}

/** GraphQL input → the service's MessageFilter; null and absent both mean "not filtered". */
export function toFilter (input: InputMaybe<MessageFilterInput> | undefined): MessageFilter {
  const f: MessageFilter = {}
  if (input == null) return f
  if (input.unread != null) f.unread = input.unread
  if (input.flagged != null) f.flagged = input.flagged
  for (const key of ['from', 'to', 'subject', 'text'] as const) {
    const v = input[key]
    if (v != null) f[key] = text(key, v)
  }
  if (input.since != null) f.since = date('since', input.since)
  if (input.before != null) f.before = date('before', input.before)
  return f
}

export function toListInput (args: ConnectionArgs): ListMessagesInput {
  const input: ListMessagesInput = { filter: toFilter(args.filter) }
  if (args.first != null) input.limit = args.first
  if (args.after != null) input.cursor = args.after
  return input
}

export async function messageConnection (
  gateway: GatewayContext, mailboxId: string, args: ConnectionArgs
): Promise<ResolversTypes['MessageConnection']> {
  const page = await gateway.service.listMessages(await gateway.caller(), mailboxId, toListInput(args))
  const last = page.items.length - 1
  return {
    // Every edge carries the cursor right after it (the last one's equals endCursor when
    // there are more pages); a service without per-item cursors gives the last edge only.
    edges: page.items.map((node, i) => ({ cursor: page.itemCursors?.[i] ?? (i === last ? page.nextCursor : null), node })),
    pageInfo: { hasNextPage: page.nextCursor !== null, endCursor: page.nextCursor },
    totalCount: page.total,
  }
}
