/**
 * A session's message list (RFC 1939 fixes it at login): UIDL → message
 * number and LIST sizes, plus UIDL-keyed paging, newest first.
 *
 * Cursor (`after`): `<message number>:<UIDL>` of the last message returned.
 * Paging resumes after that UIDL. If it vanished in a later session (deleted
 * by some client), the number is the fallback: numbers in a later session are
 * never higher than before for the same message (deletions only shift them
 * down; new mail gets the highest numbers), so resuming at numbers below the
 * old one may repeat a message or two but never skips one.
 */
import { GatewayError } from '../../mail/errors.ts'
import type { UidlEntry } from './client/index.ts'

export interface Snapshot {
  /** Ascending message numbers. */
  entries: UidlEntry[]
  byUid: Map<string, number>
  sizes: Map<number, number>
}

export function makeSnapshot (entries: UidlEntry[], sizes: Map<number, number>): Snapshot {
  const byUid = new Map<string, number>()
  for (const e of entries) if (!byUid.has(e.uid)) byUid.set(e.uid, e.n)
  return { entries, byUid, sizes }
}

export interface Cursor {
  n: number
  uid: string
}

const CURSOR_RE = /^(\d{1,9}):([\x21-\x7e]{1,70})$/

export function encodeCursor (e: UidlEntry): string {
  return `${e.n}:${e.uid}`
}

export function parseCursor (after: string): Cursor {
  const m = CURSOR_RE.exec(after)
  if (m === null) throw new GatewayError('bad-request', 'Malformed cursor')
  return { n: Number(m[1]), uid: m[2] as string }
}

export interface Page {
  items: UidlEntry[]
  next: string | null
  total: number
  /** The cursor right after each item. */
  positions: string[]
}

/** One page, newest (highest message number) first, starting after `after`. */
export function pageOf (snap: Snapshot, limit: number, after?: string): Page {
  const newest = [...snap.entries].reverse()
  let start = 0
  if (after !== undefined) {
    const cursor = parseCursor(after)
    const at = newest.findIndex(e => e.uid === cursor.uid)
    if (at !== -1) {
      start = at + 1
    } else {
      const below = newest.findIndex(e => e.n < cursor.n)
      start = below === -1 ? newest.length : below
    }
  }
  const items = newest.slice(start, start + Math.max(1, limit))
  const last = items[items.length - 1]
  const next = last !== undefined && start + items.length < newest.length ? encodeCursor(last) : null
  return { items, next, total: newest.length, positions: items.map(encodeCursor) }
}
