/**
 * `UID FETCH` answered as one object per asked UID.
 *
 * imapflow hands a command every untagged FETCH that arrives while it runs,
 * including flags-only updates another client caused (reads skip the NOOP, so
 * these do arrive). Rows are merged per UID, so such an update never stands in
 * for the message's real response, and rows for UIDs nobody asked for are
 * dropped. Every FETCH of the backend goes through here.
 */
import type { FetchMessageObject, FetchQueryObject } from 'imapflow'
import { sequenceOf } from './search.ts'
import type { ImapSession } from './session.ts'

export function mergedByUid (rows: FetchMessageObject[], asked?: ReadonlySet<number>): Map<number, FetchMessageObject> {
  const byUid = new Map<number, FetchMessageObject>()
  for (const m of rows) {
    if (asked !== undefined && !asked.has(m.uid)) continue
    const known = byUid.get(m.uid)
    if (known === undefined) {
      byUid.set(m.uid, m)
      continue
    }
    const merged: FetchMessageObject = { ...known }
    for (const [k, v] of Object.entries(m)) if (v !== undefined) (merged as unknown as Record<string, unknown>)[k] = v
    byUid.set(m.uid, merged)
  }
  return byUid
}

/** One command for `uids` (the caller keeps their number sensible), merged per UID. */
export async function fetchByUid (session: ImapSession, uids: number[], query: FetchQueryObject): Promise<Map<number, FetchMessageObject>> {
  if (uids.length === 0) return new Map()
  const rows = await session.cmd(session.client.fetchAll(sequenceOf(uids), { ...query, uid: true }, { uid: true }))
  return mergedByUid(rows, new Set(uids))
}
