/**
 * Cheap freshness check for cached messages: one UID FETCH FLAGS (with MODSEQ under CONDSTORE) per
 * mailbox (fetch-rows.ts: rows merged per UID, the latest flags win).
 * A message that is gone → absent (null to the core); a changed UIDVALIDITY → 'stale-id'.
 */
import type { MessageKey, MutableState } from '../../mail/backend.ts'
import { checkValidity, uidOf } from './get-messages.ts'
import { keywordsOf, modseqOf } from './keywords.ts'
import { fetchByUid } from './fetch-rows.ts'
import type { ImapSession } from './session.ts'

export async function statesIn (session: ImapSession, path: string, keys: MessageKey[]): Promise<Map<number, MutableState>> {
  return session.inMailbox(path, async (validity) => {
    checkValidity(keys, validity)
    const uids = [...new Set(keys.map(uidOf).filter((u): u is number => u !== null))]
    const out = new Map<number, MutableState>()
    for (const [uid, m] of await fetchByUid(session, uids, { flags: true })) out.set(uid, { keywords: keywordsOf(m.flags), modseq: modseqOf(m) })
    return out
  })
}
