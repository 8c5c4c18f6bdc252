/**
 * Message and Mailbox fields. Summary fields come from the parent (a list item
 * or a full message) through the default resolvers. Body fields are mercurius
 * loaders: each loader batches its field for all messages of the request, and
 * all loaders share the request's message batcher, so a page of 20 messages
 * asking for text and html costs ONE `service.getMessages` call (per mailbox
 * page), not 20 or 40.
 */
import type { MercuriusContext } from 'mercurius'
import type { Message } from '../../mail/types.ts'
import type { MailboxResolvers } from '../generated.ts'
import { isFullMessage, type MessageSource } from '../models.ts'
import { messageConnection } from './connection.ts'

export const BODY_FIELDS = [
  'sender', 'bcc', 'replyTo', 'inReplyTo', 'references', 'preview', 'text', 'html', 'attachments', 'headers',
] as const satisfies ReadonlyArray<keyof Message>

type BodyField = typeof BODY_FIELDS[number]
interface LoaderQuery { obj: MessageSource }
type Loader = (queries: LoaderQuery[], ctx: MercuriusContext) => Promise<unknown[]>

function bodyLoader (field: BodyField): Loader {
  return async (queries, { gateway }) => Promise.all(queries.map(async ({ obj }) => {
    if (isFullMessage(obj)) return obj[field]
    try {
      return (await gateway.messages.load(obj.id))[field]
    } catch (err) {
      return err // an Error in the result fails this field only (graphql-js throws it at this path)
    }
  }))
}

export const messageLoaders = {
  Message: Object.fromEntries(BODY_FIELDS.map(f => [f, bodyLoader(f)])),
}

export const Mailbox: MailboxResolvers = {
  messages: async (mailbox, args, { gateway }) => messageConnection(gateway, mailbox.id, args),
}
