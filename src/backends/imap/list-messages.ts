/**
 * One page of a mailbox, newest first by UID.
 *
 * Paging is UID-keyset: the backend position `after` is "<uidvalidity>:<uid>"
 * of the last message returned, and the next page is the matching UIDs below
 * it. New mail gets higher UIDs, so it never shifts a later page (no
 * duplicates, no skips); a changed UIDVALIDITY makes the position 'stale-id'.
 *
 * Round trips: the SEARCH (see search.ts) and one UID FETCH of the page
 * (UID FLAGS INTERNALDATE RFC822.SIZE BODYSTRUCTURE BODY.PEEK[HEADER]); messages
 * listed before (summary-memo.ts) need only UID FLAGS.
 * Header fields come from the normaliser's parseHeaderBlock and hasAttachment
 * from its classifyParts, the same code that reads full messages.
 */
import type { FetchMessageObject } from 'imapflow'
import type { ListQuery, ListResult, SummaryRecord } from '../../mail/backend.ts'
import { GatewayError } from '../../mail/errors.ts'
import { classifyParts, parseHeaderBlock } from '../../mail/normalise/index.ts'
import { partTreeFromBodystructure } from './bodystructure.ts'
import { keywordsOf, modseqOf } from './keywords.ts'
import { fetchByUid } from './fetch-rows.ts'
import { matchingUids } from './search.ts'
import type { ImapSession } from './session.ts'
import type { FixedSummary, MailboxMemo } from './summary-memo.ts'

export function encodePosition (validity: string, uid: number): string {
  return `${validity}:${uid}`
}

export function decodePosition (after: string): { validity: string, uid: number } {
  const m = /^(\d{1,10}):(\d{1,10})$/.exec(after)
  if (m === null) throw new GatewayError('bad-request', 'malformed cursor')
  return { validity: m[1]!, uid: Number(m[2]) }
}

export function utcIso (value: Date | string | undefined): string | null {
  if (value === undefined) return null
  const d = new Date(value)
  const year = d.getUTCFullYear()
  // RFC 3339 has four-digit years: toISOString() writes "+010000-…" beyond them
  return Number.isNaN(year) || year < 0 || year > 9999 ? null : d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/**
 * The header block is fetched partially (`BODY.PEEK[HEADER]<0.1048576>`: from octet 0, at most 1 MiB): the
 * normaliser reads no more of it either, and a message with a huge header
 * block (hostile mail) can then never make its whole page fail.
 */
const HEADER_PART = { key: 'HEADER', start: 0, maxLength: 1024 * 1024 }

/** imapflow files a fetched HEADER part under `headers`. */
function headerOf (msg: FetchMessageObject): Buffer {
  if (msg.headers !== undefined) return msg.headers
  for (const [key, value] of msg.bodyParts ?? []) if (key.toLowerCase() === 'header') return value
  return Buffer.alloc(0)
}

/** Everything a summary is built from arrived: only then is it worth remembering. */
export function complete (msg: FetchMessageObject): boolean {
  return msg.size !== undefined && msg.internalDate !== undefined && msg.bodyStructure !== undefined && headerOf(msg).length > 0
}

function summaryOf (path: string, validity: string, msg: FetchMessageObject): SummaryRecord {
  const fields = parseHeaderBlock(headerOf(msg))
  return {
    ...fields,
    headers: [], // no summary shows them; a remembered summary has none either

    key: { mailbox: path, validity, key: String(msg.uid) },
    receivedAt: utcIso(msg.internalDate),
    size: msg.size ?? 0,
    keywords: keywordsOf(msg.flags),
    modseq: modseqOf(msg),
    hasAttachment: msg.bodyStructure === undefined ? null : classifyParts(partTreeFromBodystructure(msg.bodyStructure)).hasAttachment,
  }
}

/** `memoFor(validity)`: the summaries of this mailbox remembered from earlier pages (summary-memo.ts). */
export async function listMessages (session: ImapSession, path: string, query: ListQuery, memoFor?: (validity: string) => MailboxMemo): Promise<ListResult> {
  return session.inMailbox(path, async (validity) => {
    const after = query.after === undefined ? null : decodePosition(query.after)
    if (after !== null && after.validity !== validity) {
      throw new GatewayError('stale-id', 'the mailbox changed (UIDVALIDITY) since this cursor was issued')
    }
    const matches = await matchingUids(session, query.filter)
    const page = matches.descending(query.limit, after?.uid ?? null)
    if (page.length === 0) return { items: [], total: matches.size, next: null }

    // messages listed before need only their flags and modseq (which also show whether they still exist)
    const memo = memoFor?.(validity)
    const known = new Map<number, FixedSummary>()
    for (const uid of page) {
      const fixed = memo?.get(uid)
      if (fixed !== undefined) known.set(uid, fixed)
    }
    const unknown = page.filter(uid => !known.has(uid))
    const byUid = await fetchByUid(session, unknown, { flags: true, internalDate: true, size: true, bodyStructure: true, bodyParts: [HEADER_PART] })
    const flagged = await fetchByUid(session, [...known.keys()], { flags: true })
    // a message expunged between SEARCH and FETCH is simply absent from the page
    const items = page.flatMap((uid): SummaryRecord[] => {
      const fixed = known.get(uid)
      if (fixed !== undefined) {
        const row = flagged.get(uid)
        return row === undefined ? [] : [{ ...fixed, key: { mailbox: path, validity, key: String(uid) }, keywords: keywordsOf(row.flags), modseq: modseqOf(row) }]
      }
      const msg = byUid.get(uid)
      if (msg === undefined) return []
      const summary = summaryOf(path, validity, msg)
      if (complete(msg)) memo?.set(uid, summary)
      return [summary]
    })
    const last = page[page.length - 1]!
    const more = matches.descending(1, last).length > 0
    return {
      items,
      total: matches.size,
      next: more ? encodePosition(validity, last) : null,
      positions: items.map(i => encodePosition(validity, Number(i.key.key))),
    }
  })
}
