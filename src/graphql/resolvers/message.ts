/**
 * Message and Mailbox fields. Summary fields come from the parent (a list item
 * or a full message) through the default resolvers. Body fields of a list item
 * ask the request's message batcher (batcher.ts), which collects every id asked
 * for in one turn: a page of 20 messages asking for text and html costs ONE
 * `service.getMessages` call (per mailbox page), not 20 or 40. A failed message
 * fails its own fields only.
 */
import { DEFAULT_RESPONSE_BODY_BYTES, type BodyFields } from '../../mail/body-view.ts'
import { BODY_CAP, type Capped } from '../body-allowance.ts'
import type { Message } from '../../mail/types.ts'
import type { MailboxResolvers, MessageResolvers } from '../generated.ts'
import { isFullMessage, type MessageSource } from '../models.ts'
import type { GatewayContext } from '../context.ts'
import { messageConnection } from './connection.ts'

export const BODY_FIELDS = [
  'sender', 'bcc', 'replyTo', 'inReplyTo', 'references', 'preview', 'attachments', 'headers',
] as const satisfies ReadonlyArray<keyof Message>

/** Body values, as this response may carry them (maxBodyBytes, the response's allowance). */
export const BODY_VALUE_FIELDS = ['text', 'textTruncated', 'html', 'htmlTruncated'] as const satisfies ReadonlyArray<keyof BodyFields>

type BodyField = typeof BODY_FIELDS[number]

/** The message behind a parent, its bodies cut at `cap` octets each (0: not needed). */
const fullMessage = async (obj: Capped<MessageSource>, gateway: GatewayContext, cap: number): Promise<Message> =>
  isFullMessage(obj) ? obj : await gateway.messages.load(obj.id, { cap, size: obj.size })

function bodyField<F extends BodyField> (field: F) {
  return async (obj: MessageSource, _args: unknown, { gateway }: { gateway: GatewayContext }): Promise<Message[F]> =>
    (await fullMessage(obj, gateway, 0))[field]
}

function bodyValueField<F extends keyof BodyFields> (field: F) {
  return async (obj: Capped<MessageSource>, _args: unknown, { gateway }: { gateway: GatewayContext }): Promise<BodyFields[F]> =>
    (await gateway.bodies.fieldsOf(obj, async () => await fullMessage(obj, gateway, obj[BODY_CAP] ?? DEFAULT_RESPONSE_BODY_BYTES)))[field]
}

export const MessageType = Object.fromEntries([
  ...BODY_FIELDS.map(f => [f, bodyField(f)]),
  ...BODY_VALUE_FIELDS.map(f => [f, bodyValueField(f)]),
]) as MessageResolvers

export const Mailbox: MailboxResolvers = {
  messages: async (mailbox, args, { gateway }) => messageConnection(gateway, mailbox.id, args),
}
