/**
 * The surface REST and GraphQL call. Both faces are thin: they parse transport
 * details (headers, args), call these methods and serialise what comes back.
 */
import type { Readable } from 'node:stream'
import type { AccountContext, LoginOrigin } from './backend.ts'
import type { Account, ConnectionSettings, Mailbox, Message, MessageFilter, MessagePage } from './types.ts'
import type { GatewayError } from './errors.ts'
import type { AppendRequest, CreateMailboxInput, UpdateMailboxInput } from './mailbox-writes.ts'
import type { IdempotencyRecords } from './idempotency.ts'
import type { ChangesInput, MailboxChanges } from './changes-types.ts'
import type { TokenLifetimes } from './token-lifetimes.ts'
import type { Realtime } from './events.ts'
import type { SendRequest, SendResult } from './sending.ts'

export interface CreateSessionInput extends Omit<ConnectionSettings, 'port' | 'security' | 'smtp'> {
  port?: number
  security?: ConnectionSettings['security']
  /** The submission server; credentials default to the session's. */
  smtp?: { host: string, port?: number, security?: ConnectionSettings['security'], username?: string, password?: string, accessToken?: string } | null
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

/** A keyword merge-patch's outcome (PATCH /v1/messages/{id}). */
export interface KeywordUpdate {
  id: string
  keywords: string[]
  /** The message's keyword version after the change (CONDSTORE MODSEQ, decimal); null without CONDSTORE. */
  modseq: string | null
  /** Keywords the patch set that the server did not keep: reported, never claimed. */
  dropped: string[]
}

export interface KeywordUpdateOptions {
  /** The If-Match header as sent: `"<modseq>"`. */
  ifMatch?: string
}

/** Where a moved, copied or trashed message is now; `id` null when the server did not say (no UIDPLUS). */
export interface Placement {
  id: string | null
  mailboxId: string
}

export type BatchAction = 'update' | 'move' | 'copy' | 'delete'

export interface BatchInput {
  ids: string[]
  action: BatchAction
  /** update: the keyword patch (as sent: checked by the service). */
  keywords?: unknown
  /** move, copy: the target mailbox. */
  mailboxId?: string
  /** delete: for good instead of to Trash. */
  permanent?: boolean
}

/** One id's outcome, in the order asked; `error` when `status` ≥ 400. */
export interface BatchResult {
  id: string
  status: number
  newId?: string | null
  keywords?: string[]
  error?: GatewayError
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
  createMailbox: (caller: Caller, input: CreateMailboxInput) => Promise<Mailbox>
  /** A rename or move answers the mailbox under its new id. */
  updateMailbox: (caller: Caller, mailboxId: string, input: UpdateMailboxInput) => Promise<Mailbox>
  deleteMailbox: (caller: Caller, mailboxId: string, opts?: { force?: boolean }) => Promise<void>
  /** APPEND, the body streamed to the server. */
  appendMessage: (caller: Caller, mailboxId: string, req: AppendRequest) => Promise<Placement>
  /**
   * The mailbox's state now, read from the server (IMAP: one STATUS; POP3: one
   * UIDL round), not from the cached list; null where the account has none.
   */
  mailboxState: (caller: Caller, mailboxId: string) => Promise<string | null>
  /** What changed since a state (contract §8); 410 `cannot-calculate-changes`, 400 for a state not of this mailbox. */
  changes: (caller: Caller, mailboxId: string, input: ChangesInput) => Promise<MailboxChanges>
  /** Answers to POST writes kept for retries (Idempotency-Key); absent: the header is refused. */
  readonly idempotency?: IdempotencyRecords
  listMessages: (caller: Caller, mailboxId: string, input: ListMessagesInput) => Promise<MessagePageWithCursors>
  getMessage: (caller: Caller, messageId: string, opts?: GetMessageOptions) => Promise<MessageResult>
  /** Batched read for GraphQL body fields; one entry per id, in order. */
  getMessages: (caller: Caller, messageIds: string[]) => Promise<Array<Message | GatewayError>>
  openRaw: (caller: Caller, messageId: string, opts?: OpenOptions) => Promise<Download>
  openAttachment: (caller: Caller, messageId: string, attachmentId: string, opts?: OpenOptions) => Promise<Download>
  /** RFC 7396 on the keyword map; 412/428 with If-Match (contract §7). */
  updateKeywords: (caller: Caller, messageId: string, keywords: unknown, opts?: KeywordUpdateOptions) => Promise<KeywordUpdate>
  moveMessage: (caller: Caller, messageId: string, mailboxId: string) => Promise<Placement>
  copyMessage: (caller: Caller, messageId: string, mailboxId: string) => Promise<Placement>
  /** To Trash (the placement), or for good (null: 204). */
  deleteMessage: (caller: Caller, messageId: string, opts?: { permanent?: boolean }) => Promise<Placement | null>
  /** ≤ 1 000 ids, one result each, in order; partial failure is normal. */
  batchMessages: (caller: Caller, input: BatchInput) => Promise<BatchResult[]>
  /** Expiry, revocation and the subscriber count of tokens held by long-lived subscribers (SSE, GraphQL subscriptions). */
  readonly lifetimes?: TokenLifetimes
  /** Submit over the session's SMTP server (contract §10). */
  sendMessage: (caller: Caller, req: SendRequest) => Promise<SendResult>
  readiness: () => Promise<ReadinessReport>
  /** Real time for the subscriber faces (contract §8); absent or null: no event routes. */
  readonly realtime?: Realtime | null
  close: () => Promise<void>
}
