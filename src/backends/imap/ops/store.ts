/**
 * Keyword merge-patch on messages of one mailbox (RFC 7396 on the keyword
 * map): `UID STORE <set> +FLAGS (…)` for what is set and `-FLAGS (…)` for
 * what is cleared — one command per action over the whole UID set, whatever
 * the number of messages; keywords not named are left alone, so two clients
 * changing different keywords never undo each other.
 *
 * - A keyword the mailbox cannot keep (PERMANENTFLAGS without `\*`, RFC 3501
 *   §7.1) is refused before anything is sent; one the server drops anyway is
 *   reported in `dropped`, never claimed.
 * - `unchangedSince` (CONDSTORE, RFC 7162 §3.1.3): a message changed since is
 *   named in `[MODIFIED …]` and left as it is → `precondition-failed` with its
 *   current keywords and MODSEQ.
 */
import { GatewayError } from '../../../mail/errors.ts'
import type { KeywordOptions, KeywordPatch, KeywordState } from '../../../mail/writers.ts'
import { atom, run, seq, type FetchRow } from '../exec.ts'
import { flagOf, keywordsOf } from '../keywords.ts'
import { sequenceOf } from '../search.ts'
import type { ImapSession } from '../session.ts'
import { UidSet } from '../uid-set.ts'
import { completeRows, rowsByUid } from './rows.ts'

function refusedByMailbox (session: ImapSession, flags: string[]): string[] {
  const mailbox = session.client.mailbox
  const permanent = mailbox === false ? undefined : mailbox.permanentFlags
  if (permanent === undefined) return []
  const allowed = new Set([...permanent].map(f => f.toLowerCase()))
  if (allowed.has('\\*')) return []
  return flags.filter(f => !allowed.has(f.toLowerCase()))
}

/** Per UID asked: the keywords after the change, or that message's error (not-found, precondition-failed). */
export async function storeKeywords (session: ImapSession, uids: number[], patch: KeywordPatch, opts: KeywordOptions = {}): Promise<Map<number, KeywordState | GatewayError>> {
  const set = Object.keys(patch).filter(k => patch[k] === true)
  const cleared = Object.keys(patch).filter(k => patch[k] === false)
  const refused = refusedByMailbox(session, set.map(flagOf))
  if (refused.length > 0) {
    throw new GatewayError('unsupported', `this mailbox cannot keep the keyword(s) ${refused.join(', ')} (the server's PERMANENTFLAGS has no \\*)`)
  }
  const rows = new Map<number, FetchRow>()
  const modified = new Set<number>()
  let since = opts.unchangedSince
  let targets = uids
  for (const [op, keywords] of [['+FLAGS', set], ['-FLAGS', cleared]] as const) {
    if (keywords.length === 0 || targets.length === 0) continue
    const modifier = since === undefined ? [] : [[atom('UNCHANGEDSINCE'), atom(since)]]
    const answer = await run(session, 'UID STORE', [seq(sequenceOf(targets)), ...modifier, atom(op), keywords.map(k => atom(flagOf(k)))])
    rowsByUid(answer.rows.filter(r => targets.includes(r.uid)), rows)
    if (answer.code[0]?.toUpperCase() === 'MODIFIED' && answer.code[1] !== undefined) {
      const failed = UidSet.fromSequence(answer.code[1])
      for (const u of targets) if (failed.has(u)) modified.add(u)
      targets = targets.filter(u => !failed.has(u))
    }
    // a second STORE of one conditional change is conditional on the first one's result
    if (since !== undefined && targets.length === 1) since = rows.get(targets[0]!)?.modseq ?? since
  }
  await completeRows(session, uids, rows, modified)
  const out = new Map<number, KeywordState | GatewayError>()
  for (const uid of uids) {
    const row = rows.get(uid)
    if (row === undefined || row.flags === null) {
      out.set(uid, new GatewayError('not-found', 'no such message in this mailbox'))
      continue
    }
    const keywords = keywordsOf(row.flags)
    if (modified.has(uid)) {
      out.set(uid, new GatewayError('precondition-failed', 'another client changed this message\'s keywords since the version sent', { extra: { keywords, modseq: row.modseq } }))
      continue
    }
    out.set(uid, { keywords, modseq: row.modseq, dropped: set.filter(k => !keywords.includes(k)) })
  }
  return out
}
