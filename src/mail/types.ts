/**
 * The gateway's public resources (contract §1–3), protocol-neutral.
 * Names follow JMAP Mail (RFC 8621) where the contract does not say otherwise.
 */

export type Protocol = 'imap' | 'pop3'
export type Security = 'tls' | 'starttls' | 'none'

/** A server and the login to it. */
export interface ServerLogin {
  host: string
  port: number
  security: Security
  username: string
  /** Exactly one of password / accessToken is set. */
  password?: string
  accessToken?: string
}

/** What a caller sends to POST /v1/sessions, and what the token seals. */
export interface ConnectionSettings extends ServerLogin {
  protocol: Protocol
  /** The submission server (contract §10); absent: the session cannot send. */
  smtp?: SmtpSettings
}

/** A session's submission server and its login (the session's own credentials unless others were given). */
export type SmtpSettings = ServerLogin

export interface Address {
  name: string | null
  email: string
}

/**
 * What an account can do. The common keys are always present; protocol
 * specific keys (POP3's top/uidl/…, IMAP's condstore/…) are added by the backend.
 */
export interface Capabilities {
  mailboxes: boolean
  keywords: boolean
  search: boolean
  move: boolean
  idle: boolean
  // The write keys (contract §7) are set by every backend; a token sealed
  // before they existed lacks them, which reads as false.
  /** Messages can be deleted (IMAP: to Trash or permanently; POP3: DELE committed by QUIT). */
  delete?: boolean
  /** Messages can be added to a mailbox (IMAP APPEND). */
  append?: boolean
  /** Messages can be copied between mailboxes. */
  copy?: boolean
  /** Mailboxes can be created, renamed, moved, subscribed and deleted. */
  manageMailboxes?: boolean
  /** Mailboxes have a `state` and answer `changes` (IMAP: CONDSTORE; POP3: UIDL). */
  changes?: boolean
  /** Messages can be sent (the session carries a submission server it logged in to). */
  send?: boolean
  [extra: string]: boolean | number | string | string[] | null | undefined
}

export interface Account {
  id: string
  protocol: Protocol
  host: string
  port: number
  username: string
  capabilities: Capabilities
}

export type MailboxRole =
  | 'inbox' | 'sent' | 'drafts' | 'trash' | 'junk' | 'archive' | 'all' | 'flagged'

export interface Mailbox {
  id: string
  name: string
  path: string
  parentId: string | null
  role: MailboxRole | null
  totalEmails: number
  /** null where the protocol cannot tell (POP3). */
  unreadEmails: number | null
  isSubscribed: boolean
  /**
   * Opaque; changes whenever anything in the mailbox changes (contract §8), the
   * `since` of `changes`. null where the account cannot tell (IMAP without CONDSTORE).
   */
  state: string | null
}

export interface MessageSummary {
  id: string
  mailboxId: string
  protocol: Protocol
  messageId: string | null
  subject: string | null
  from: Address[]
  to: Address[]
  cc: Address[]
  sentAt: string | null
  receivedAt: string | null
  size: number
  /** JMAP keyword names; null = unknown (POP3). */
  keywords: string[] | null
  /** The version for If-Match: CONDSTORE MODSEQ as a decimal string; null without CONDSTORE (POP3). */
  modseq: string | null
  /** null only where the protocol cannot tell without downloading the message (POP3 lists). */
  hasAttachment: boolean | null
}

export interface Attachment {
  id: string
  filename: string | null
  contentType: string
  size: number
  disposition: 'attachment' | 'inline' | null
  contentId: string | null
  url: string
}

export interface Header {
  name: string
  value: string
}

export interface Message extends MessageSummary {
  hasAttachment: boolean
  sender: Address[]
  bcc: Address[]
  replyTo: Address[]
  inReplyTo: string[]
  references: string[]
  preview: string
  text: string | null
  html: string | null
  /** The text is not the whole text/plain body: cut at maxBodyBytes or the normaliser's cap. */
  textTruncated: boolean
  /** The same for the HTML. */
  htmlTruncated: boolean
  attachments: Attachment[]
  headers: Header[]
}

/** List filters (contract §3). Dates are compared on receivedAt. */
export interface MessageFilter {
  unread?: boolean
  flagged?: boolean
  from?: string
  to?: string
  subject?: string
  text?: string
  since?: Date
  before?: Date
}

export interface MessagePage {
  items: MessageSummary[]
  nextCursor: string | null
  total: number
}
