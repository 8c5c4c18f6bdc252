/**
 * Sending (contract §10): check what the session can do and what the caller
 * asked, build the message once (a spool the sender holds outside memory),
 * submit it, then file a copy in Sent and mark a replied-to original
 * `$answered` — each through the existing write paths, so caches see both.
 *
 * Once the SMTP server has accepted the message the send has happened: the
 * Sent copy and the `$answered` flag are best effort after it and never turn
 * the answer into a failure (a retry would send the message again).
 */
import type { Readable } from 'node:stream'
import { GatewayError } from './errors.ts'
import { encodeMailboxId } from './ids.ts'
import type { MailboxWrites } from './mailbox-writes.ts'
import type { Mailboxes } from './mailboxes.ts'
import type { MessageWrites } from './message-writes.ts'
import type { Messages } from './messages.ts'
import { isAddress, parseDraft, type SendInput } from './send-input.ts'
import type { Draft, MailSender, PreparedMessage, RejectedRecipient } from './send-port.ts'
import { takeSendRate, type SendRateLimit } from './send-rate.ts'
import type { Caller } from './service-types.ts'
import type { SmtpSettings } from './types.ts'

export interface SendLimits {
  /** SEND_LIMIT: the largest message (octets). */
  maxBytes: number
  /** SEND_MAX_RECIPIENTS: To + Cc + Bcc of one message. */
  maxRecipients: number
  /** SEND_RATE_PER_MINUTE: messages per account and minute (0: unlimited), counted by a SendRateLimit. */
  perMinute: number
}

export const DEFAULT_SEND_LIMITS: SendLimits = { maxBytes: 25 * 1024 * 1024, maxRecipients: 100, perMinute: 60 }

export interface SendRequest {
  /** A message to compose (JSON), or … */
  draft?: SendInput
  /** … a raw message/rfc822 body, sent as given but for its Bcc header field. */
  raw?: Readable
  /** Default true: APPEND a copy to the mailbox of role `sent`. */
  saveToSent?: boolean
  /** Awaited before the first octet of the message text can go out: from then on a failure's outcome is unknown (Idempotency-Key keeps it). */
  onCommit?: () => Promise<void>
}

export interface SendResult {
  messageId: string
  accepted: string[]
  rejected: RejectedRecipient[]
  /** The Sent copy's id; null when none was saved (asked not to, the provider files its own, no Sent mailbox, no UIDPLUS). */
  sentId: string | null
}

/**
 * Submission servers that file a copy in Sent themselves: a second copy
 * APPENDed by the gateway would show twice (the rule EmailEngine follows).
 */
const SAVES_OWN_COPY = /^(?:smtp\.gmail\.com|smtp\.googlemail\.com|smtp\.office365\.com|smtp-mail\.outlook\.com)$/i

export function providerSavesSentCopy (smtp: SmtpSettings): boolean {
  return SAVES_OWN_COPY.test(smtp.host)
}

function replySubject (subject: string | null): string {
  const bare = (subject ?? '').replace(/^\s*(?:re|aw|sv)\s*:\s*/i, '')
  return `Re: ${bare}`.trimEnd()
}

export class Sending {
  constructor (
    private readonly sender: MailSender | null,
    private readonly messages: Messages,
    private readonly mailboxes: Mailboxes,
    private readonly mailboxWrites: MailboxWrites,
    private readonly writes: MessageWrites,
    private readonly limits: SendLimits,
    private readonly rate: SendRateLimit
  ) {}

  #smtp (caller: Caller): { sender: MailSender, smtp: SmtpSettings } {
    const smtp = caller.ctx.settings.smtp
    if (caller.account.capabilities.send !== true || smtp === undefined || this.sender === null) {
      throw new GatewayError('unsupported', 'this session cannot send: create it with "smtp" settings')
    }
    return { sender: this.sender, smtp }
  }

  async send (caller: Caller, req: SendRequest): Promise<SendResult> {
    const { sender, smtp } = this.#smtp(caller)
    const login = caller.account.username
    let draft: Draft | null = null
    let original: string | null = null
    if (req.draft !== undefined) {
      draft = parseDraft(req.draft, isAddress(login) ? login : null, this.limits.maxRecipients)
      if (req.draft.inReplyTo !== undefined && req.draft.inReplyTo !== null) {
        if (typeof req.draft.inReplyTo !== 'string') throw new GatewayError('bad-request', 'inReplyTo must be a message id')
        original = req.draft.inReplyTo
        await this.#thread(caller, draft, original, req.draft.subject === undefined || req.draft.subject === null)
      }
    } else if (req.raw === undefined) {
      throw new GatewayError('bad-request', 'send a JSON message or a message/rfc822 body')
    }
    await this.#takeRate(caller)
    const prepared = draft !== null ? await sender.compose(draft, this.limits.maxBytes) : await sender.raw(req.raw!, this.limits.maxBytes)
    try {
      if (prepared.envelope.to.length === 0) throw new GatewayError('bad-request', 'the message names no recipient (To, Cc or Bcc)')
      if (prepared.envelope.to.length > this.limits.maxRecipients) {
        throw new GatewayError('bad-request', `at most ${this.limits.maxRecipients} recipients per message`)
      }
      const result = await sender.submit(caller.account.id, smtp, prepared, req.onCommit === undefined ? {} : { beforeData: req.onCommit })
      const sentId = req.saveToSent === false || providerSavesSentCopy(smtp) ? null : await this.#saveCopy(caller, prepared)
      if (original !== null) await this.writes.updateKeywords(caller, original, { $answered: true }).catch(() => {})
      return { messageId: prepared.messageId, accepted: result.accepted, rejected: result.rejected, sentId }
    } finally {
      await prepared.dispose()
    }
  }

  /** In-Reply-To, References and (unless the caller gave one) a `Re:` subject from the original. */
  async #thread (caller: Caller, draft: Draft, messageId: string, subjectFromOriginal: boolean): Promise<void> {
    const { message } = await this.messages.get(caller, messageId, { maxBodyBytes: 1024 })
    if (message.messageId !== null) {
      draft.inReplyTo = message.messageId
      draft.references = [...message.references, message.messageId].slice(-50)
    }
    if (subjectFromOriginal) draft.subject = replySubject(message.subject)
  }

  async #takeRate (caller: Caller): Promise<void> {
    if (this.limits.perMinute === 0) return
    await takeSendRate(this.rate, caller.account.id, this.limits.perMinute)
  }

  /** APPEND to the mailbox of role `sent`, `$seen`; null when there is none, the account cannot, or it fails. */
  async #saveCopy (caller: Caller, prepared: PreparedMessage): Promise<string | null> {
    if (caller.account.capabilities.append !== true) return null
    try {
      const sent = (await this.mailboxes.list(caller)).find(m => m.role === 'sent')
      if (sent === undefined) return null
      const placed = await this.mailboxWrites.append(caller, encodeMailboxId(caller.account.id, sent.path), {
        body: prepared.open(), size: prepared.size, keywords: ['$seen'],
      })
      return placed.id
    } catch {
      return null
    }
  }
}
