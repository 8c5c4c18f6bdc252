/**
 * `messages(...)` on Query and Mailbox: the REST page as a Relay connection.
 * Same service call, same opaque cursors and same filters as
 * GET /v1/mailboxes/{mailboxId}/messages.
 */
import { bodyCap } from '../../mail/body-view.ts'
import { parseMessageFilter } from '../../mail/filter.ts'
import { capped } from '../body-allowance.ts'
import type { ListMessagesInput } from '../../mail/service-types.ts'
import type { GatewayContext } from '../context.ts'
import type { InputMaybe, MessageFilter as MessageFilterInput, ResolversTypes } from '../generated.ts'

export interface ConnectionArgs {
  first?: InputMaybe<number>
  after?: InputMaybe<string>
  filter?: InputMaybe<MessageFilterInput>
  maxBodyBytes?: InputMaybe<number>
}

export function toListInput (args: ConnectionArgs): ListMessagesInput {
  const input: ListMessagesInput = { filter: parseMessageFilter(args.filter) }
  if (args.first != null) input.limit = args.first
  if (args.after != null) input.cursor = args.after
  return input
}

export async function messageConnection (
  gateway: GatewayContext, mailboxId: string, args: ConnectionArgs
): Promise<ResolversTypes['MessageConnection']> {
  const cap = bodyCap(args.maxBodyBytes)
  const page = await gateway.service.listMessages(await gateway.caller(), mailboxId, toListInput(args))
  const last = page.items.length - 1
  return {
    // Every edge carries the cursor right after it (the last one's equals endCursor when
    // there are more pages); a service without per-item cursors gives the last edge only.
    edges: page.items.map((node, i) => ({ cursor: page.itemCursors?.[i] ?? (i === last ? page.nextCursor : null), node: capped(node, cap) })),
    pageInfo: { hasNextPage: page.nextCursor !== null, endCursor: page.nextCursor },
    totalCount: page.total,
  }
}
