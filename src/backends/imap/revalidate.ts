/**
 * Cheap freshness check for cached messages: one UID FETCH FLAGS per mailbox.
 * A message that is gone → null; a changed UIDVALIDITY → 'stale-id'.
 */
import type { MessageKey } from '../../mail/backend.ts'
import { checkValidity, uidOf } from './get-messages.ts'
import { keywordsOf } from './keywords.ts'
import { sequenceOf } from './search.ts'
import type { ImapSession } from './session.ts'

export async function keywordsIn (session: ImapSession, path: string, keys: MessageKey[]): Promise<Map<number, string[]>> {
  return session.inMailbox(path, async (validity) => {
    checkValidity(keys, validity)
    const uids = keys.map(uidOf).filter((u): u is number => u !== null)
    const out = new Map<number, string[]>()
    if (uids.length === 0) return out
    const metas = await session.cmd(session.client.fetchAll(sequenceOf(uids), { uid: true, flags: true }, { uid: true }))
    for (const m of metas) out.set(m.uid, keywordsOf(m.flags))
    return out
  })
}
