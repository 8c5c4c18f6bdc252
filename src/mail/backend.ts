/**
 * The seam between the protocol-neutral core and a mail protocol.
 * Backends speak in protocol-native keys (mailbox path + UIDVALIDITY + UID for
 * IMAP, UIDL for POP3); the service turns those into opaque public ids, cursors
 * and URLs, so no backend ever builds a public id.
 */
import type { Readable } from 'node:stream'
import type { Address, Capabilities, ConnectionSettings, Header, MailboxRole, MessageFilter, Protocol } from './types.ts'
import type { MailWriters } from './writers.ts'
import type { WatchConnector } from './watch-source.ts'

/** Who is asking: the account id and the settings unsealed from the caller's token. */
export interface AccountContext {
  accountId: string
  settings: ConnectionSettings
}

/** A message's stable identity on its server. */
export interface MessageKey {
  /** Mailbox path ("INBOX" for POP3). */
  mailbox: string
  /** IMAP UIDVALIDITY as a decimal string; null for POP3. */
  validity: string | null
  /** IMAP UID as a decimal string, or the POP3 UIDL. */
  key: string
}

/**
 * IMAP with CONDSTORE: what one STATUS says of a mailbox. Every change moves it:
 * new mail raises UIDNEXT, a keyword change HIGHESTMODSEQ, an expunge MESSAGES
 * (and HIGHESTMODSEQ under QRESYNC).
 */
export interface ModseqState {
  /** UIDVALIDITY, decimal. */
  validity: string
  /** HIGHESTMODSEQ, decimal (up to 63 bits). */
  modseq: string
  uidNext: number
  messages: number
}

/** A mailbox's state as its protocol knows it (the core turns it into `Mailbox.state`). */
export type NativeMailboxState =
  | { kind: 'modseq', state: ModseqState }
  /** POP3: the maildrop's UIDLs now (the core keeps them as a snapshot). */
  | { kind: 'uidl', uidls: string[] }

/** One page of the changes after a ModseqState (MailBackend.changesSince). */
export interface ModseqChangesQuery {
  since: ModseqState
  /** The state the paged sequence leads to; absent on its first page (the backend reads the current one). */
  to?: ModseqState
  /** Position reached by earlier pages (a UID; 0 on the first page). */
  after: number
  limit: number
}

export interface ChangedMessage {
  key: MessageKey
  /** Keywords now; null where the backend did not learn them. */
  keywords: string[] | null
}

export interface ModseqChanges {
  /** The state the sequence leads to (the query's `to`, or the current state on a first page). */
  to: ModseqState
  created: ChangedMessage[]
  updated: ChangedMessage[]
  destroyed: MessageKey[]
  /** Where the next page starts (a UID) while there is more; null when this page ends the sequence. */
  next: number | null
}

export interface MailboxRecord {
  path: string
  name: string
  parentPath: string | null
  role: MailboxRole | null
  totalEmails: number
  unreadEmails: number | null
  isSubscribed: boolean
  /**
   * The mailbox's state where the listing carries it (IMAP LIST-STATUS); null
   * where there is none (no CONDSTORE); absent: ask `mailboxState`.
   */
  state?: NativeMailboxState | null
}

/** Fields taken from the header block: identical code path for IMAP and POP3. */
export interface HeaderFields {
  messageId: string | null
  subject: string | null
  from: Address[]
  to: Address[]
  cc: Address[]
  sender: Address[]
  bcc: Address[]
  replyTo: Address[]
  inReplyTo: string[]
  references: string[]
  sentAt: string | null
  /** Date of the topmost Received: header, else Date:, else null (UTC ISO). */
  receivedFromHeaders: string | null
  headers: Header[]
}

/** A non-body part, addressed by IMAP-style section number ("2", "1.3"). */
export interface ParsedAttachment {
  partId: string
  filename: string | null
  contentType: string
  size: number
  disposition: 'attachment' | 'inline' | null
  contentId: string | null
}

/** What the normaliser makes of one raw message. */
export interface ParsedMessage extends HeaderFields {
  size: number
  preview: string
  text: string | null
  html: string | null
  /** Set when the normaliser's cap (2 MiB of UTF-8 per body) cut the text / the HTML. */
  textTruncated?: true
  htmlTruncated?: true
  attachments: ParsedAttachment[]
  hasAttachment: boolean
}

/** A list item. Its `headers` may be empty: no summary resource shows them. */
export interface SummaryRecord extends HeaderFields {
  key: MessageKey
  receivedAt: string | null
  size: number
  keywords: string[] | null
  /** CONDSTORE MODSEQ (decimal); null without CONDSTORE (and on POP3). Mutable with the keywords. */
  modseq: string | null
  hasAttachment: boolean | null
}

/** What of a message can change: its keywords and, with CONDSTORE, its MODSEQ (they move together). */
export interface MutableState {
  keywords: string[] | null
  modseq: string | null
}

export interface MessageRecord extends ParsedMessage {
  key: MessageKey
  receivedAt: string | null
  keywords: string[] | null
  modseq: string | null
}

export interface ListQuery {
  limit: number
  /** Opaque backend position from a previous page's `next`; absent for the first page. */
  after?: string
  filter: MessageFilter
}

export interface ListResult {
  items: SummaryRecord[]
  total: number
  /** Backend position for the next page; null when this was the last. */
  next: string | null
  /** Optional: the position right after each item (per-item cursors for GraphQL edges). */
  positions?: string[]
}

export interface RawSource {
  stream: Readable
  /** Octets, when the server told us before streaming. */
  size: number | null
}

/** Who asks for a new session: the client address as the face saw it (an opaque key for budgets). */
export interface LoginOrigin {
  client: string
}

export interface MailBackend {
  readonly protocol: Protocol
  /**
   * Log in (fresh; never retried on rejection) and report what the account can
   * do. Not yet authenticated: it runs under the login budgets of `origin`, never
   * in slots of sessions already logged in.
   */
  login: (settings: ConnectionSettings, origin?: LoginOrigin) => Promise<Capabilities>
  listMailboxes: (ctx: AccountContext) => Promise<MailboxRecord[]>
  listMessages: (ctx: AccountContext, mailbox: string, query: ListQuery) => Promise<ListResult>
  /** Batched: one upstream round per mailbox where the protocol allows. null = no such message. */
  getMessages: (ctx: AccountContext, keys: MessageKey[]) => Promise<Array<MessageRecord | null>>
  /** The message byte for byte, streamed. The upstream connection is held until the stream ends or is destroyed. */
  openRaw: (ctx: AccountContext, key: MessageKey) => Promise<RawSource>
  /**
   * Cheap freshness check for cached messages (IMAP: UID FETCH FLAGS; POP3: UIDL).
   * One entry per key: the current keywords and MODSEQ, or null when the message is gone.
   * Optional: without it the service refetches stale entries in full.
   */
  revalidate?: (ctx: AccountContext, keys: MessageKey[]) => Promise<Array<MutableState | null>>
  /**
   * A cheap token of the mailbox's mutable state that changes whenever any
   * message's keywords change or a message is expunged (IMAP: STATUS with
   * HIGHESTMODSEQ). Optional; null where the server cannot give one.
   */
  mailboxValidator?: (ctx: AccountContext, mailbox: string) => Promise<string | null>
  /**
   * The mailbox's state now (contract §8 `Mailbox.state`): IMAP one STATUS
   * (null without CONDSTORE), POP3 the UIDL list. Optional: without it no
   * mailbox has a state.
   */
  mailboxState?: (ctx: AccountContext, mailbox: string) => Promise<NativeMailboxState | null>
  /**
   * IMAP with CONDSTORE: one page of what changed after `query.since`, in UID
   * order. Rejects with `cannot-calculate-changes` when they cannot be known
   * (UIDVALIDITY changed; destroyed messages without QRESYNC's VANISHED).
   */
  changesSince?: (ctx: AccountContext, mailbox: string, query: ModseqChangesQuery) => Promise<ModseqChanges>
  /**
   * What this backend can change (writers.ts); each part is used only for
   * accounts whose capabilities say so (`delete`, `copy`, `append`,
   * `manageMailboxes`). Absent: the backend only reads.
   */
  readonly writers?: MailWriters
  /**
   * A long-lived connection that tells the watchers when something changed
   * (watch-source.ts; IMAP: IDLE on INBOX, STATUS polls of the others).
   * Absent: the watchers poll `changes` (POP3).
   */
  readonly watch?: WatchConnector
  /** Close pooled connections opened with these credentials (revocation). */
  release: (settings: ConnectionSettings) => Promise<void>
  close: () => Promise<void>
}
