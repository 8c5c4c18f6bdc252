/**
 * Backend records → public resources: the one place that builds public ids,
 * attachment URLs and the contract's field order.
 */
import { createHash } from 'node:crypto'
import type { MailboxRecord, MessageRecord, SummaryRecord } from './backend.ts'
import { encodeMailboxId, encodeMessageId } from './ids.ts'
import type { Attachment, Mailbox, Message, MessageSummary, Protocol } from './types.ts'

export function presentMailbox (accountId: string, r: Omit<MailboxRecord, 'state'>, state: string | null): Mailbox {
  return {
    id: encodeMailboxId(accountId, r.path),
    name: r.name,
    path: r.path,
    parentId: r.parentPath === null ? null : encodeMailboxId(accountId, r.parentPath),
    role: r.role,
    totalEmails: r.totalEmails,
    unreadEmails: r.unreadEmails,
    isSubscribed: r.isSubscribed,
    state,
  }
}

export function presentSummary (accountId: string, protocol: Protocol, r: SummaryRecord): MessageSummary {
  return {
    id: encodeMessageId(accountId, r.key),
    mailboxId: encodeMailboxId(accountId, r.key.mailbox),
    protocol,
    messageId: r.messageId,
    subject: r.subject,
    from: r.from,
    to: r.to,
    cc: r.cc,
    sentAt: r.sentAt,
    receivedAt: r.receivedAt,
    size: r.size,
    keywords: r.keywords,
    modseq: r.modseq,
    hasAttachment: r.hasAttachment,
  }
}

export function attachmentUrl (messageId: string, attachmentId: string): string {
  return `/v1/messages/${messageId}/attachments/${encodeURIComponent(attachmentId)}`
}

export function presentMessage (accountId: string, protocol: Protocol, r: MessageRecord): Message {
  const summary = presentSummary(accountId, protocol, r)
  const attachments: Attachment[] = r.attachments.map(a => ({
    id: a.partId,
    filename: a.filename,
    contentType: a.contentType,
    size: a.size,
    disposition: a.disposition,
    contentId: a.contentId,
    url: attachmentUrl(summary.id, a.partId),
  }))
  return {
    ...summary,
    hasAttachment: r.hasAttachment,
    sender: r.sender,
    bcc: r.bcc,
    replyTo: r.replyTo,
    inReplyTo: r.inReplyTo,
    references: r.references,
    preview: r.preview,
    text: r.text,
    html: r.html,
    textTruncated: r.textTruncated === true,
    htmlTruncated: r.htmlTruncated === true,
    attachments,
    headers: r.headers,
  }
}

/**
 * Records are never changed in place (a keyword change makes a new record), so
 * the resource built from one is built once and shared, frozen, for as long as
 * the record itself is kept (the reader's memo): repeated reads of a cached
 * message skip building it and, in the HTTP face, serialising it.
 */
const presented = new WeakMap<MessageRecord, { accountId: string, message: Message, etag: string }>()

export function presentMessageOnce (accountId: string, protocol: Protocol, r: MessageRecord): { message: Message, etag: string } {
  const hit = presented.get(r)
  if (hit !== undefined && hit.accountId === accountId) return hit
  const message = presentMessage(accountId, protocol, r)
  for (const a of message.attachments) Object.freeze(a)
  Object.freeze(message.attachments)
  const entry = { accountId, message: Object.freeze(message), etag: messageEtag(message) }
  presented.set(r, entry)
  return entry
}

/**
 * Weak: the JSON carries mutable keywords and modseq next to immutable content. A
 * representation cut at a maxBodyBytes (`cap`) differs from the whole one and
 * from other cuts, so the cap is part of its tag.
 */
export function messageEtag (message: Message, cap?: number): string {
  const h = createHash('sha256').update(message.id).update('\0').update((message.keywords ?? ['-']).join(' ')).update(`\0${message.modseq ?? '-'}`)
  if (cap !== undefined) h.update(`\0cap:${cap}`)
  return `W/"${h.digest('base64url').slice(0, 22)}"`
}

/** Strong: content at a message id never changes (RFC 3501 §2.3.1.1; POP3 UIDL). */
export function contentEtag (messageId: string, part: string): string {
  return `"${createHash('sha256').update(messageId).update('\0').update(part).digest('base64url').slice(0, 22)}"`
}
