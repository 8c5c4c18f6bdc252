/**
 * List filters → IMAP SEARCH, answered as a UidSet of exact matches.
 *
 * - unread → UNSEEN/SEEN, flagged → FLAGGED/UNFLAGGED, from/to/subject →
 *   the header keys, text → TEXT (headers and body, substring as IMAP does).
 * - Messages flagged \Deleted (pending expunge) are never listed.
 * - since/before are exact instants on receivedAt (INTERNALDATE), but IMAP
 *   SINCE/BEFORE compare whole days in a timezone the server picks. So:
 *   one SEARCH with the days widened (a superset), one with them narrowed
 *   (certain matches), and a FETCH of INTERNALDATE for the few messages in
 *   between, checked exactly. Without date filters it is one SEARCH.
 * - With ESEARCH the result comes back as a compact sequence set and is paged
 *   without ever being expanded.
 */
import type { SearchObject } from 'imapflow'
import type { MessageFilter } from '../../mail/types.ts'
import { GatewayError } from '../../mail/errors.ts'
import { UpstreamRefusal } from './errors.ts'
import type { ImapSession } from './session.ts'
import { UidSet } from './uid-set.ts'

const DAY = 24 * 3600 * 1000
/** Messages within the day margins around a date bound that are checked one by one. */
const MAX_BOUNDARY = 200_000

function utcMidnight (d: Date, shiftDays: number): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) + shiftDays * DAY)
}

export function baseCriteria (filter: MessageFilter): SearchObject {
  const c: SearchObject = { deleted: false }
  if (filter.unread !== undefined) c.seen = !filter.unread
  if (filter.flagged !== undefined) c.flagged = filter.flagged
  if (filter.from !== undefined) c.from = filter.from
  if (filter.to !== undefined) c.to = filter.to
  if (filter.subject !== undefined) c.subject = filter.subject
  if (filter.text !== undefined) c.text = filter.text
  return c
}

export async function searchUids (session: ImapSession, criteria: SearchObject): Promise<UidSet> {
  const result = await session.cmd(session.client.search(criteria, { uid: true, returnOptions: ['ALL'] }))
  if (result === undefined) throw new GatewayError('not-found', 'no such mailbox')
  if (result === false) throw new UpstreamRefusal('the mail server refused the search')
  if (Array.isArray(result)) return UidSet.fromList(result)
  return result.all === undefined || result.all === '' ? UidSet.fromList([]) : UidSet.fromSequence(result.all)
}

export function sequenceOf (uids: number[] | UidSet): string {
  const set = Array.isArray(uids) ? UidSet.fromList(uids) : uids
  return set.ranges.map(([lo, hi]) => lo === hi ? String(lo) : `${lo}:${hi}`).join(',')
}

function inWindow (t: number, filter: MessageFilter): boolean {
  if (filter.since !== undefined && t < filter.since.getTime()) return false
  if (filter.before !== undefined && t >= filter.before.getTime()) return false
  return true
}

/** Every UID in the selected mailbox that matches `filter` exactly. */
export async function matchingUids (session: ImapSession, filter: MessageFilter): Promise<UidSet> {
  const base = baseCriteria(filter)
  const { since, before } = filter
  if (since === undefined && before === undefined) return searchUids(session, base)

  const wide: SearchObject = { ...base }
  const sure: SearchObject = { ...base }
  if (since !== undefined) {
    wide.since = utcMidnight(since, -1)
    sure.since = utcMidnight(since, 2)
  }
  if (before !== undefined) {
    wide.before = utcMidnight(before, 2)
    sure.before = utcMidnight(before, -1)
  }
  const sureEmpty = sure.since instanceof Date && sure.before instanceof Date && sure.since >= sure.before
  const candidates = await searchUids(session, wide)
  const certain = sureEmpty ? UidSet.fromList([]) : await searchUids(session, sure)
  let boundary: number[]
  try {
    boundary = candidates.minusList(certain, MAX_BOUNDARY)
  } catch {
    throw new UpstreamRefusal('too many messages around the date bounds to filter exactly')
  }
  if (boundary.length === 0) return certain

  const fetched = await session.cmd(session.client.fetchAll(sequenceOf(boundary), { uid: true, internalDate: true }, { uid: true }))
  const exact = fetched
    .filter(m => m.internalDate !== undefined && inWindow(new Date(m.internalDate).getTime(), filter))
    .map(m => m.uid)
  return certain.union(UidSet.fromList(exact))
}
