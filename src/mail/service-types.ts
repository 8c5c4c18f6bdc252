/**
 * The surface REST and GraphQL call. Both faces are thin: they parse transport
 * details (headers, args), call these methods and serialise what comes back.
 */
import type { Readable } from 'node:stream'
import type { AccountContext, LoginOrigin } from './backend.ts'
import type { Account, ConnectionSettings, Mailbox, Message, MessageFilter, MessagePage } from './types.ts'
import type { GatewayError } from './errors.ts'

export interface CreateSessionInput extends Omit<ConnectionSettings, 'port' | 'security'> {
  port?: number
  security?: ConnectionSettings['security']
  /** Seconds; 1 ≤ ttl ≤ SESSION_TTL_MAX. */
  ttl?: number
}

export interface SessionGrant {
  token: string
  expiresAt: string
  account: Account
}

/** A caller whose bearer token was unsealed and checked (not expired, not revoked). */
export interface Caller {
  tokenId: string
  expiresAt: number
  account: Account
  ctx: AccountContext
}

/** A page plus a cursor after each item (GraphQL edges); REST sends only MessagePage's fields. */
export interface MessagePageWithCursors extends MessagePage {
  itemCursors?: Array<string | null>
}

export interface ListMessagesInput {
  limit?: number
  cursor?: string
  filter?: MessageFilter
}

export interface GetMessageOptions {
  /** UTF-8 octets of text and of HTML shown at most (1 … 2 MiB; default 256 KiB). */
  maxBodyBytes?: number
}

export interface MessageResult {
  message: Message
  /** A formatted weak entity-tag (`W/"…"`): the JSON covers mutable keywords. */
  etag: string
}

export interface Download {
  /** null when `notModified` said the caller's copy is current: nothing was opened upstream. */
  stream: Readable | null
  contentType: string
  filename: string | null
  size: number | null
  /** A formatted strong entity-tag (`"…"`): content at a message id never changes. */
  etag: string
}

export interface OpenOptions {
  /** Conditional read: given the content's ETag, true when the caller already has it. */
  notModified?: (etag: string) => boolean
}

export interface ReadinessReport {
  ready: boolean
  cache: { backend: 'redis' | 'memory', status: 'ok' | 'degraded' }
}

export interface MailServiceApi {
  /** `origin`: the caller's client address (net/client-address.ts clientKey), for the login throttle. */
  createSession: (input: CreateSessionInput, origin?: LoginOrigin) => Promise<SessionGrant>
  authenticate: (token: string) => Promise<Caller>
  revokeSession: (caller: Caller) => Promise<void>
  listMailboxes: (caller: Caller) => Promise<Mailbox[]>
  getMailbox: (caller: Caller, mailboxId: string) => Promise<Mailbox>
  listMessages: (caller: Caller, mailboxId: string, input: ListMessagesInput) => Promise<MessagePageWithCursors>
  getMessage: (caller: Caller, messageId: string, opts?: GetMessageOptions) => Promise<MessageResult>
  /** Batched read for GraphQL body fields; one entry per id, in order. */
  getMessages: (caller: Caller, messageIds: string[]) => Promise<Array<Message | GatewayError>>
  openRaw: (caller: Caller, messageId: string, opts?: OpenOptions) => Promise<Download>
  openAttachment: (caller: Caller, messageId: string, attachmentId: string, opts?: OpenOptions) => Promise<Download>
  readiness: () => Promise<ReadinessReport>
  close: () => Promise<void>
}
