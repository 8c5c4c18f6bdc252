/**
 * Cheap freshness check for cached messages: one UID FETCH FLAGS per mailbox
 * (fetch-rows.ts: rows merged per UID, the latest flags win).
 * A message that is gone → null; a changed UIDVALIDITY → 'stale-id'.
 */
import type { MessageKey } from '../../mail/backend.ts'
import { checkValidity, uidOf } from './get-messages.ts'
import { keywordsOf } from './keywords.ts'
import { fetchByUid } from './fetch-rows.ts'
import type { ImapSession } from './session.ts'

export async function keywordsIn (session: ImapSession, path: string, keys: MessageKey[]): Promise<Map<number, string[]>> {
  return session.inMailbox(path, async (validity) => {
    checkValidity(keys, validity)
    const uids = [...new Set(keys.map(uidOf).filter((u): u is number => u !== null))]
    const out = new Map<number, string[]>()
    for (const [uid, m] of await fetchByUid(session, uids, { flags: true })) out.set(uid, keywordsOf(m.flags))
    return out
  })
}
