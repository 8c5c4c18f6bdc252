/**
 * Permanent removal of exactly the UIDs named: `UID STORE <set> +FLAGS.SILENT
 * (\Deleted)` then `UID EXPUNGE <set>` (UIDPLUS, RFC 4315 §2.1). Never a plain
 * EXPUNGE, which removes every `\Deleted` message of the mailbox, other
 * clients' too: without UIDPLUS a permanent delete is refused.
 */
import { GatewayError } from '../../../mail/errors.ts'
import { atom, run, seq } from '../exec.ts'
import { sequenceOf } from '../search.ts'
import type { ImapSession } from '../session.ts'
import { completeRows } from './rows.ts'

export function assertUidExpunge (session: ImapSession): void {
  if (!session.client.capabilities.has('UIDPLUS')) {
    throw new GatewayError('unsupported', 'this IMAP server has no UIDPLUS: removing one message for good would need a plain EXPUNGE, which also removes other clients\' deleted messages')
  }
}

/** Expunges the UIDs that exist; returns them (the others are not there). */
export async function expungeUids (session: ImapSession, uids: number[]): Promise<Set<number>> {
  assertUidExpunge(session)
  if (uids.length === 0) return new Set()
  const rows = await completeRows(session, uids, new Map())
  const present = uids.filter(u => rows.has(u))
  if (present.length === 0) return new Set()
  const set = sequenceOf(present)
  await run(session, 'UID STORE', [seq(set), atom('+FLAGS.SILENT'), [atom('\\Deleted')]])
  await run(session, 'UID EXPUNGE', [seq(set)])
  return new Set(present)
}
