/**
 * The MailSender (src/mail/send-port.ts) over nodemailer: MailComposer
 * builds, a spool holds (spool.ts), the SMTP transport submits (transport.ts).
 *
 * Failures map onto the catalogue: a refused login is `auth-failed` (never
 * retried), every recipient or the sender refused is `send-rejected` with
 * the server's reply (control characters removed, bounded), a connection or
 * TLS failure `upstream-unavailable`, a timeout `upstream-timeout`. Once
 * the message text has started to flow a dropped connection leaves the
 * outcome unknown: the error says so (`extra.delivery: "unknown"`). A message
 * with 8-bit octets to a server without 8BITMIME is `unsupported`, decided as
 * the submission starts, before any octet of it is sent.
 */
import { Readable } from 'node:stream'
import nodemailer from 'nodemailer'
import type { Logger } from 'pino'
import type { LoginOrigin } from '../../mail/backend.ts'
import { GatewayError } from '../../mail/errors.ts'
import type { MailSender, PreparedMessage, RejectedRecipient, SubmitHooks, SubmitResult } from '../../mail/send-port.ts'
import type { SmtpSettings } from '../../mail/types.ts'
import { composeDraft } from './compose.ts'
import { prepareRaw } from './raw.ts'
import { offers8BitMime, Transports, transportOptions, type TransportOptions } from './transport.ts'
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js'

/**
 * 8-bit octets go only to a server that offered 8BITMIME: a 7-bit server may
 * mangle them, and a message/rfc822 part may not be re-encoded (RFC 2046
 * §5.2.1, RFC 6152), so the gateway refuses rather than send them or fake it.
 */
const EIGHT_BIT_REFUSED = 'the message holds 8-bit data (a raw 8-bit body, or an attached message/rfc822 that is not 7-bit) ' +
  'and the submission server does not offer 8BITMIME: send the body 7-bit encoded (quoted-printable or base64), ' +
  'or attach the message as application/octet-stream'

export interface SmtpSenderOptions extends TransportOptions {
  logger: Logger
}

interface SmtpError extends Error {
  code?: string
  response?: string
  responseCode?: number
  command?: string
  rejected?: string[]
  rejectedErrors?: Array<{ recipient?: string, response?: string }>
}

/** A server reply fit for a caller: one line, no control characters, bounded. */
export function sanitiseReply (reply: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  return (reply ?? '').replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim().slice(0, 512)
}

function rejectedOf (err: { rejectedErrors?: SmtpError['rejectedErrors'] }, fallback: string[] = []): RejectedRecipient[] {
  const listed = (err.rejectedErrors ?? []).map(e => ({ email: e.recipient ?? '', reply: sanitiseReply(e.response) }))
  return listed.length > 0 ? listed : fallback.map(email => ({ email, reply: '' }))
}

function toGatewayError (err: SmtpError, dataStarted: boolean): GatewayError {
  const reply = sanitiseReply(err.response)
  switch (err.code) {
    case 'EAUTH':
      return new GatewayError('auth-failed', 'the submission server rejected the login', { cause: err })
    case 'EENVELOPE':
    case 'EMESSAGE': {
      const temporary = err.responseCode !== undefined && err.responseCode >= 400 && err.responseCode < 500
      if (!temporary || err.code === 'EENVELOPE') {
        return new GatewayError('send-rejected', `the submission server refused the message: ${reply || err.message}`, {
          cause: err,
          extra: { reply, rejected: rejectedOf(err, err.rejected) },
        })
      }
      return new GatewayError('upstream-unavailable', `the submission server deferred the message: ${reply}`, { cause: err })
    }
    case 'ETIMEDOUT':
      return new GatewayError('upstream-timeout', dataStarted
        ? 'the submission server did not answer after the message was sent: it may have been delivered'
        : 'the submission server did not answer in time', { cause: err, ...(dataStarted ? { extra: { delivery: 'unknown' } } : {}) })
    case 'EDNS':
    case 'ETLS':
    case 'ECONNECTION':
    case 'ESOCKET':
    default:
      return new GatewayError('upstream-unavailable', dataStarted
        ? 'the connection to the submission server failed while the message was sent: it may have been delivered'
        : 'cannot reach the submission server', { cause: err, ...(dataStarted ? { extra: { delivery: 'unknown' } } : {}) })
  }
}

export function createSmtpSender (opts: SmtpSenderOptions): MailSender {
  const transports = new Transports(opts)

  return {
    async verify (smtp: SmtpSettings, _origin: LoginOrigin): Promise<void> {
      const transport = nodemailer.createTransport(await transportOptions(smtp, opts, false))
      try {
        await transport.verify()
      } catch (err) {
        throw toGatewayError(err as SmtpError, false)
      } finally {
        transport.close()
      }
    },

    compose: composeDraft,
    raw: prepareRaw,

    async submit (accountId: string, smtp: SmtpSettings, message: PreparedMessage, hooks: SubmitHooks = {}): Promise<SubmitResult> {
      const transport = await transports.get(accountId, smtp)
      let dataStarted = false
      let sevenBitServer = false
      // first read by nodemailer as the submission starts (while MAIL FROM and RCPT TO are under way),
      // and nothing of it goes out before the first chunk: the attempt is recorded before any text does
      async function * text (): AsyncGenerator<Buffer> {
        if (message.eightBit && !offers8BitMime(transport)) {
          // no octet is sent: the transaction is abandoned with the connection, nothing is delivered
          sevenBitServer = true
          throw new Error('8-bit message for a server without 8BITMIME')
        }
        await hooks.beforeData?.()
        dataStarted = true
        yield * message.open() as AsyncIterable<Buffer>
      }
      try {
        // use8BitMime: MAIL FROM … BODY=8BITMIME where the server offers it (RFC 6152 §3)
        const envelope = { ...message.envelope, use8BitMime: message.eightBit }
        const info: SMTPPool.SentMessageInfo = await transport.sendMail({ envelope, raw: Readable.from(text(), { objectMode: false }) })
        const emails = (list: Array<string | { address: string }> | undefined): string[] => (list ?? []).map(a => typeof a === 'string' ? a : a.address)
        return { accepted: emails(info.accepted), rejected: rejectedOf(info as { rejectedErrors?: SmtpError['rejectedErrors'] }, emails(info.rejected)) }
      } catch (err) {
        const e = err as SmtpError
        if (dataStarted || e.code !== 'EENVELOPE') transports.forget(accountId, smtp)
        // (nodemailer rewrites the code of an error thrown by the message stream: the flag says it was this one)
        if (sevenBitServer) throw new GatewayError('unsupported', EIGHT_BIT_REFUSED)
        opts.logger.debug({ code: e.code, command: e.command, responseCode: e.responseCode }, 'smtp submission failed')
        throw toGatewayError(e, dataStarted)
      }
    },

    async release (accountId: string, smtp: SmtpSettings): Promise<void> {
      transports.release(accountId, smtp)
    },

    async close (): Promise<void> {
      transports.close()
    },
  }
}
