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
 * - A SEARCH date is a day of years 1970–9999 at most: IMAP dates have four-digit
 *   years, and servers refuse days too far back (Dovecot: before 1890). A bound
 *   outside that range is dropped from the superset SEARCH or clamped into the
 *   certain one, so messages near or beyond it go through the exact check: a
 *   `before=9999-12-31` or `since=1753-01-01` answers what it means, never a
 *   refused search.
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

/** The first and last day a SEARCH may name (UTC midnights). */
export const SEARCH_FIRST_DAY = Date.UTC(1970, 0, 1)
export const SEARCH_LAST_DAY = Date.UTC(9999, 11, 31)

/** Midnight UTC of d's day, moved by whole days (arithmetic: Date.UTC reads years 0–99 as 19xx). */
function utcMidnight (d: Date, shiftDays: number): number {
  return Math.floor(d.getTime() / DAY) * DAY + shiftDays * DAY
}

/** A day for SEARCH, or null when it lies outside what a SEARCH can say. */
function searchDay (t: number): Date | null {
  return t < SEARCH_FIRST_DAY || t > SEARCH_LAST_DAY ? null : new Date(t)
}

interface DayBounds { since?: Date, before?: Date, empty?: true }

/**
 * SEARCH day bounds for the superset (`wide`: a bound that cannot be said is
 * dropped, or moved outward onto the range's edge) and for the certain matches
 * (`sure`: moved inward onto the edge, or nothing is certain).
 */
export function dayBounds (since: Date | undefined, before: Date | undefined): { wide: DayBounds, sure: DayBounds } {
  const wide: DayBounds = {}
  const sure: DayBounds = {}
  if (since !== undefined) {
    const w = utcMidnight(since, -1)
    const s = utcMidnight(since, 2)
    if (w > SEARCH_LAST_DAY) wide.since = new Date(SEARCH_LAST_DAY)
    else if (w >= SEARCH_FIRST_DAY) wide.since = new Date(w)
    if (s > SEARCH_LAST_DAY) sure.empty = true
    else sure.since = searchDay(s) ?? new Date(SEARCH_FIRST_DAY)
  }
  if (before !== undefined) {
    const w = utcMidnight(before, 2)
    const s = utcMidnight(before, -1)
    if (w < SEARCH_FIRST_DAY) wide.before = new Date(SEARCH_FIRST_DAY)
    else if (w <= SEARCH_LAST_DAY) wide.before = new Date(w)
    if (s < SEARCH_FIRST_DAY) sure.empty = true
    else sure.before = searchDay(s) ?? new Date(SEARCH_LAST_DAY)
  }
  if (sure.since !== undefined && sure.before !== undefined && sure.since >= sure.before) sure.empty = true
  return { wide, sure }
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

  const days = dayBounds(since, before)
  const wide: SearchObject = { ...base, ...days.wide }
  const candidates = await searchUids(session, wide)
  const certain = days.sure.empty === true ? UidSet.fromList([]) : await searchUids(session, { ...base, ...days.sure })
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
