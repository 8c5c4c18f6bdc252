/** MessageRecord fixtures for the mail-core unit tests. */
import type { MessageKey, MessageRecord } from '../../src/mail/backend.ts'

export function record (key: MessageKey, keywords: string[], extra: Partial<MessageRecord> = {}): MessageRecord {
  return {
    key,
    keywords,
    modseq: null,
    receivedAt: null,
    size: 10,
    preview: 'p',
    text: `text of ${key.key}`,
    html: null,
    attachments: [],
    hasAttachment: false,
    messageId: null,
    subject: `s${key.key}`,
    from: [],
    to: [],
    cc: [],
    sender: [],
    bcc: [],
    replyTo: [],
    inReplyTo: [],
    references: [],
    sentAt: null,
    receivedFromHeaders: null,
    headers: [],
    ...extra,
  }
}
