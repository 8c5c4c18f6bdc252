/**
 * What a write learnt about its messages: the FETCH rows the server sent while
 * it ran, completed by one `UID FETCH (FLAGS MODSEQ)` for the UIDs it said
 * nothing about (a server may report only flags that changed, and a UID that
 * is gone gets no row at all). A UID still without a row is not there.
 */
import { fetchByUid } from '../fetch-rows.ts'
import { modseqOf } from '../keywords.ts'
import type { FetchRow } from '../exec.ts'
import type { ImapSession } from '../session.ts'

export async function completeRows (session: ImapSession, uids: number[], rows: Map<number, FetchRow>, refetch: Set<number> = new Set()): Promise<Map<number, FetchRow>> {
  const missing = uids.filter(u => refetch.has(u) || rows.get(u)?.flags == null)
  if (missing.length === 0) return rows
  // imapflow adds MODSEQ to every FETCH once CONDSTORE is enabled
  const fetched = await fetchByUid(session, missing, { flags: true })
  for (const uid of missing) {
    const m = fetched.get(uid)
    if (m === undefined) rows.delete(uid)
    else rows.set(uid, { uid, flags: [...(m.flags ?? [])], modseq: modseqOf(m) })
  }
  return rows
}

/** Rows by UID, a later row for a UID completing an earlier one. */
export function rowsByUid (rows: FetchRow[], into = new Map<number, FetchRow>()): Map<number, FetchRow> {
  for (const row of rows) {
    const known = into.get(row.uid)
    into.set(row.uid, { uid: row.uid, flags: row.flags ?? known?.flags ?? null, modseq: row.modseq ?? known?.modseq ?? null })
  }
  return into
}
