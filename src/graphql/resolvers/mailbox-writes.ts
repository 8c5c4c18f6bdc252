/**
 * Mutation: mailbox management and APPEND (the REST writes of the same
 * names). GraphQL's null means "absent", except `parentId` of an update,
 * where an explicit null moves the mailbox to the top, as in REST. The POST
 * writes take `idempotencyKey` (REST's Idempotency-Key, ../idempotency.ts).
 */
import { Readable } from 'node:stream'
import type { UpdateMailboxInput } from '../../mail/mailbox-writes.ts'
import type { MutationResolvers } from '../generated.ts'
import { keyed } from '../idempotency.ts'

type Resolvers = Pick<MutationResolvers, 'createMailbox' | 'updateMailbox' | 'deleteMailbox' | 'appendMessage'>

export const MailboxWriteMutations: Resolvers = {
  createMailbox: async (_root, { input, idempotencyKey }, { gateway }) => {
    const caller = await gateway.caller()
    const create = { name: input.name, parentId: input.parentId ?? null }
    return await keyed(gateway, caller, 'createMailbox', idempotencyKey, create, async () => await gateway.service.createMailbox(caller, create))
  },

  updateMailbox: async (_root, { id, input }, { gateway }) => {
    const change: UpdateMailboxInput = {}
    if (input.name != null) change.name = input.name
    if (input.isSubscribed != null) change.isSubscribed = input.isSubscribed
    if (input.parentId !== undefined) change.parentId = input.parentId
    return gateway.service.updateMailbox(await gateway.caller(), id, change)
  },

  deleteMailbox: async (_root, { id, force }, { gateway }) => {
    await gateway.service.deleteMailbox(await gateway.caller(), id, { force: force === true })
    return true
  },

  appendMessage: async (_root, { mailboxId, raw, keywords, receivedAt, idempotencyKey }, { gateway }) => {
    const bytes = Buffer.from(raw, 'utf8')
    const caller = await gateway.caller()
    const input = { mailboxId, raw, keywords: keywords ?? [], receivedAt: receivedAt ?? null }
    return await keyed(gateway, caller, 'appendMessage', idempotencyKey, input, async () => await gateway.service.appendMessage(caller, mailboxId, {
      body: Readable.from([bytes]),
      size: bytes.length,
      keywords: keywords ?? [],
      ...(receivedAt == null ? {} : { receivedAt }),
    }))
  },
}
