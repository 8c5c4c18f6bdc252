/**
 * Header block → HeaderFields (contract §3). The full parse and the list
 * summaries (IMAP BODY[HEADER], POP3 TOP n 0) both come through here, so the
 * same header bytes always give the same fields.
 */
import type { HeaderFields } from '../backend.ts'
import type { Header } from '../types.ts'
import { parseAddresses } from './addresses.ts'
import { decodeWords } from './charset.ts'
import { parseDate } from './dates.ts'
import { allValues, firstValue, headerBlockOf, splitHeaders } from './headers.ts'

const MAX_IDS = 1000

/** Message ids without <>: every <…> in the values, else the whitespace-separated tokens. */
export function parseMessageIds (values: string[]): string[] {
  const out: string[] = []
  for (const value of values) {
    const bracketed = [...value.matchAll(/<([^<>]*)>/g)].map(m => (m[1] as string).replace(/\s+/g, ''))
    const ids = bracketed.length ? bracketed : value.split(/[\s,]+/)
    for (const id of ids) if (id && out.length < MAX_IDS) out.push(id)
  }
  return out
}

/** Date of the topmost Received: field that carries a readable one (text after the last ';'). */
function receivedDate (headers: Header[]): string | null {
  for (const value of allValues(headers, 'received')) {
    const semi = value.lastIndexOf(';')
    if (semi === -1) continue
    const d = parseDate(value.slice(semi + 1))
    if (d) return d.utc
  }
  return null
}

/** Fields of an already split header list (the full parse reuses its root headers). */
export function fieldsFromHeaders (headers: Header[]): HeaderFields {
  const addrs = (name: string): HeaderFields['from'] => parseAddresses(allValues(headers, name))
  const subject = firstValue(headers, 'subject')
  const date = parseDate(firstValue(headers, 'date'))
  return {
    messageId: parseMessageIds(allValues(headers, 'message-id').slice(0, 1))[0] ?? null,
    subject: subject === null ? null : decodeWords(subject).replace(/[\r\n]+/g, ' ').trim(),
    from: addrs('from'),
    to: addrs('to'),
    cc: addrs('cc'),
    sender: addrs('sender'),
    bcc: addrs('bcc'),
    replyTo: addrs('reply-to'),
    inReplyTo: parseMessageIds(allValues(headers, 'in-reply-to')),
    references: parseMessageIds(allValues(headers, 'references')),
    sentAt: date?.local ?? null,
    receivedFromHeaders: receivedDate(headers) ?? date?.utc ?? null,
    headers,
  }
}

/**
 * Parse a header block (or a whole raw message: only its header block is read,
 * up to the first empty line, at most MAX_HEADER_BYTES).
 */
export function parseHeaderBlock (header: Buffer): HeaderFields {
  return fieldsFromHeaders(splitHeaders(headerBlockOf(header)))
}
