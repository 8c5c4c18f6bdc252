/**
 * The sending seam (contract §10): what the core needs from an SMTP
 * submission implementation (src/backends/smtp). The core validates the
 * request, resolves a reply's original, checks limits and capabilities, and
 * decides what is saved where; the sender builds the MIME message, holds it
 * outside memory while it is submitted and appended, and speaks SMTP.
 */
import type { Readable } from 'node:stream'
import type { LoginOrigin } from './backend.ts'
import type { SmtpSettings } from './types.ts'

export type { SmtpSettings } from './types.ts'

export interface DraftAddress { name: string | null, email: string }

export interface DraftAttachment {
  filename: string
  contentType: string
  /** The content as base64 (as the caller sent it), decoded while the message is built. */
  base64: string
}

/** A message to compose, every field checked by the core (send-input.ts). */
export interface Draft {
  from: DraftAddress
  to: DraftAddress[]
  cc: DraftAddress[]
  bcc: DraftAddress[]
  replyTo: DraftAddress[]
  subject: string | null
  text: string | null
  html: string | null
  attachments: DraftAttachment[]
  /** Extra header fields (`X-…`), checked. */
  headers: Array<{ name: string, value: string }>
  inReplyTo: string | null
  references: string[]
}

/** SMTP envelope: MAIL FROM and the RCPT TOs (Bcc recipients included). */
export interface Envelope { from: string, to: string[] }

/** A message ready to send: spooled once, readable any number of times, `size` octets. */
export interface PreparedMessage {
  envelope: Envelope
  /** The Message-ID header's value (with angle brackets). */
  messageId: string
  size: number
  /** Holds octets above 127 (an 8-bit message/rfc822 attachment, a raw 8-bit body): sent only with 8BITMIME. */
  eightBit: boolean
  open: () => Readable
  /** Frees the spool; idempotent. */
  dispose: () => Promise<void>
}

export interface RejectedRecipient { email: string, reply: string }

export interface SubmitResult {
  accepted: string[]
  rejected: RejectedRecipient[]
}

export interface SubmitHooks {
  /**
   * Awaited before the first octet of the message text can go out (the SMTP
   * client reads the message while the envelope is still being sent, so this
   * may run before RCPT is answered, even when no recipient will be
   * accepted): from then on the outcome of a failure is treated as unknown,
   * so a retry must not send again.
   */
  beforeData?: () => Promise<void>
}

export interface MailSender {
  /** Logs in (once; a refusal is `auth-failed`, never retried) and logs out: session creation. */
  verify: (smtp: SmtpSettings, origin: LoginOrigin) => Promise<void>
  /** Builds the MIME message of a draft (Bcc not in the header) into a spool, at most `limit` octets. */
  compose: (draft: Draft, limit: number) => Promise<PreparedMessage>
  /**
   * Spools a raw message as given except for its `Bcc` header field, which is
   * removed (its recipients join the envelope), at most `limit` octets.
   */
  raw: (body: Readable, limit: number) => Promise<PreparedMessage>
  /**
   * Submits over a pooled connection per account and credential. Some
   * recipients refused: resolved, with them in `rejected`. All refused or
   * the sender refused: `send-rejected` with the server's reply.
   */
  submit: (accountId: string, smtp: SmtpSettings, message: PreparedMessage, hooks?: SubmitHooks) => Promise<SubmitResult>
  /** Closes the pooled connections of these settings (session revoked). */
  release: (accountId: string, smtp: SmtpSettings) => Promise<void>
  close: () => Promise<void>
}
