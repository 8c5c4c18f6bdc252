/**
 * A checked draft (src/mail/send-input.ts) built into a MIME message by
 * nodemailer's MailComposer and spooled. Attachments are decoded from their
 * base64 text piece by piece while the message streams out (never held
 * decoded whole beside the request's text), and MailComposer encodes names,
 * subject and file names (RFC 2047/2231) and leaves Bcc out of the header.
 */
import { randomUUID } from 'node:crypto'
import { Readable } from 'node:stream'
import MailComposer from 'nodemailer/lib/mail-composer/index.js'
import type { Draft, DraftAddress, PreparedMessage } from '../../mail/send-port.ts'
import { spool } from './spool.ts'

/** Base64 characters decoded at once (a multiple of 4): 48 KiB of content. */
const PIECE = 64 * 1024

/** The content of a base64 text, decoded a piece at a time as it is read. */
export function base64Stream (text: string): Readable {
  const clean = /[\r\n]/.test(text) ? text.replace(/[\r\n]/g, '') : text
  let at = 0
  return new Readable({
    read () {
      if (at >= clean.length) { this.push(null); return }
      const piece = clean.slice(at, at + PIECE)
      at += PIECE
      this.push(Buffer.from(piece, 'base64'))
    },
  })
}

function mailbox (a: DraftAddress): { name: string, address: string } {
  return { name: a.name ?? '', address: a.email }
}

function domainOf (email: string): string {
  const domain = email.slice(email.lastIndexOf('@') + 1)
  return /^[A-Za-z0-9.-]+$/.test(domain) ? domain : 'mail-gateway.invalid'
}

export async function composeDraft (draft: Draft, limit: number): Promise<PreparedMessage> {
  const messageId = `<${randomUUID()}@${domainOf(draft.from.email)}>`
  const headers: Record<string, string> = {}
  for (const h of draft.headers) headers[h.name] = h.value
  const node = new MailComposer({
    from: mailbox(draft.from),
    to: draft.to.map(mailbox),
    cc: draft.cc.map(mailbox),
    bcc: draft.bcc.map(mailbox),
    replyTo: draft.replyTo.map(mailbox),
    subject: draft.subject ?? '',
    ...(draft.text === null ? {} : { text: draft.text }),
    ...(draft.html === null ? {} : { html: draft.html }),
    attachments: draft.attachments.map(a => ({ filename: a.filename, contentType: a.contentType, content: base64Stream(a.base64) })),
    headers,
    messageId,
    ...(draft.inReplyTo === null ? {} : { inReplyTo: draft.inReplyTo, references: draft.references }),
    // no file paths or URLs as content: everything comes from the request
    disableFileAccess: true,
    disableUrlAccess: true,
  }).compile()
  const spooled = await spool(node.createReadStream() as AsyncIterable<Buffer>, limit)
  const to = [...new Set([...draft.to, ...draft.cc, ...draft.bcc].map(a => a.email))]
  return { envelope: { from: draft.from.email, to }, messageId, ...spooled }
}
