/**
 * The write seams beside MailBackend, one interface per capability (the way
 * `revalidate?` and `mailboxValidator?` are optional reads). A backend offers
 * a writer only for what its protocol can do, and the account's capabilities
 * (`delete`, `copy`, `append`, `manageMailboxes`, contract §7) say so to the
 * caller; the service answers 422 `unsupported` for the rest before any
 * writer is called. Writers speak protocol-native keys, like the readers.
 *
 * Every answer is per key, in order: one key's failure (gone, stale) never
 * fails the others, and a writer never touches a message it was not given.
 */
import type { Readable } from 'node:stream'
import type { AccountContext, MailboxRecord, MessageKey } from './backend.ts'
import type { GatewayError } from './errors.ts'

/** RFC 7396 on the keyword map: true sets, false clears; names not given are left alone. */
export type KeywordPatch = Record<string, boolean>

export interface KeywordOptions {
  /** CONDSTORE: change only messages whose MODSEQ is at most this (decimal string). */
  unchangedSince?: string
}

/** A message's keywords after a change (JMAP names), and its MODSEQ where the server has one. */
export interface KeywordState {
  keywords: string[]
  modseq: string | null
  /** Keywords the patch set that the server did not keep (reported, never claimed). */
  dropped: string[]
}

/** Where a message went: its key in the target mailbox, null when the server did not say (no COPYUID). */
export interface Placed {
  key: MessageKey | null
}

/** Per key: the outcome, or the error of that key alone. */
export type PerKey<T> = Array<T | GatewayError>

/** Flags and moves between mailboxes (IMAP). */
export interface MessageWriter {
  setKeywords: (ctx: AccountContext, keys: MessageKey[], patch: KeywordPatch, opts?: KeywordOptions) => Promise<PerKey<KeywordState>>
  move: (ctx: AccountContext, keys: MessageKey[], target: string) => Promise<PerKey<Placed>>
  copy: (ctx: AccountContext, keys: MessageKey[], target: string) => Promise<PerKey<Placed>>
}

/**
 * Permanent removal of exactly the messages named (IMAP `UID EXPUNGE` of
 * those UIDs; POP3 `DELE` committed by `QUIT`). null per key = gone.
 */
export interface MessageRemover {
  remove: (ctx: AccountContext, keys: MessageKey[]) => Promise<PerKey<null>>
}

export interface AppendInput {
  /** The raw message, streamed to the server. */
  source: Readable
  /** Octets, when known before streaming (IMAP literals need the length). */
  size: number | null
  keywords: string[]
  receivedAt: string | null
}

/** New messages (IMAP APPEND). */
export interface MessageAppender {
  append: (ctx: AccountContext, mailbox: string, input: AppendInput) => Promise<Placed>
}

export interface MailboxChange {
  name?: string
  parentPath?: string | null
  isSubscribed?: boolean
}

/**
 * Mailbox create / rename / move / subscribe / delete (IMAP). Names are
 * Unicode; only the backend knows the hierarchy separator, so it builds the
 * path and refuses a name that holds one (`bad-request`).
 */
export interface MailboxWriter {
  create: (ctx: AccountContext, parentPath: string | null, name: string) => Promise<MailboxRecord>
  update: (ctx: AccountContext, path: string, change: MailboxChange) => Promise<MailboxRecord>
  remove: (ctx: AccountContext, path: string, opts: { force: boolean }) => Promise<void>
}

/** What a backend can write; each part present only where its protocol can do it. */
export interface MailWriters {
  messages?: MessageWriter
  remover?: MessageRemover
  appender?: MessageAppender
  mailboxes?: MailboxWriter
}
