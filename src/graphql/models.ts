/**
 * What GraphQL resolvers pass around as parents (codegen `mappers`, see codegen.ts).
 */
import type { Message, MessageSummary } from '../mail/types.ts'

/**
 * A `Message` parent: a list item (summary fields only; body fields come through
 * the batched loader) or a message fetched by id (all fields present).
 */
export type MessageSource = MessageSummary | Message

export function isFullMessage (m: MessageSource): m is Message {
  return 'headers' in m
}
