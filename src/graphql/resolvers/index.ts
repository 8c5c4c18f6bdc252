/** All resolvers, keyed by GraphQL type. */
import type { Resolvers } from '../generated.ts'
import { CapabilitiesType } from './account.ts'
import { Mailbox, MessageType } from './message.ts'
import { MailboxWriteMutations } from './mailbox-writes.ts'
import { MessageWriteMutations } from './message-writes.ts'
import { Mutation } from './mutation.ts'
import { Query } from './query.ts'
import { SendMutations } from './send.ts'

export const resolvers: Resolvers = {
  Query,
  Mutation: { ...Mutation, ...MessageWriteMutations, ...MailboxWriteMutations, ...SendMutations },
  Mailbox,
  Message: MessageType,
  Capabilities: CapabilitiesType,
}
