/** Query: thin calls into the mail service, one per REST resource. */
import type { QueryResolvers } from '../generated.ts'
import { bodyCap } from '../../mail/body-view.ts'
import { capped } from '../body-allowance.ts'
import { messageConnection } from './connection.ts'

export const Query: QueryResolvers = {
  account: async (_root, _args, { gateway }) => (await gateway.caller()).account,
  mailboxes: async (_root, _args, { gateway }) => gateway.service.listMailboxes(await gateway.caller()),
  mailbox: async (_root, { id }, { gateway }) => gateway.service.getMailbox(await gateway.caller(), id),
  messages: async (_root, { mailboxId, ...args }, { gateway }) => messageConnection(gateway, mailboxId, args),
  changes: async (_root, { mailboxId, since, limit }, { gateway }) => {
    const { keywords: _forEvents, ...changes } = await gateway.service.changes(await gateway.caller(), mailboxId, { since, ...(limit == null ? {} : { limit }) })
    return changes
  },
  // Through the batcher: several `message(id:)` in one request cost one upstream fetch.
  // Each occurrence (alias) is its own parent with its own maxBodyBytes: its bodies count once each.
  message: async (_root, { id, maxBodyBytes }, { gateway }) => {
    const cap = bodyCap(maxBodyBytes)
    await gateway.caller()
    return capped(await gateway.messages.load(id, { cap }), cap)
  },
}
