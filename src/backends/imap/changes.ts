/**
 * Mailbox state and changes over CONDSTORE/QRESYNC (RFC 7162), for the core's
 * `changes` (src/mail/changes.ts).
 *
 * The state is one STATUS: (UIDVALIDITY, HIGHESTMODSEQ, UIDNEXT, MESSAGES).
 * The changes after a state (V, M, N, C) are one
 * `UID FETCH lo:hi (UID FLAGS MODSEQ) (CHANGEDSINCE M VANISHED)`:
 * - rows below N are `updated`, rows from N on `created`;
 * - VANISHED UIDs below N are `destroyed`; those from N on were created and
 *   destroyed since, and are left out (RFC 8620 §5.2);
 * - a message flagged \Deleted is `destroyed` as the listing hides it
 *   (created and flagged since: left out).
 * Sent as written through exec(): imapflow turns VANISHED into `expunge`
 * events, not data. Without QRESYNC there is no VANISHED; MESSAGES then tells
 * whether anything below N was expunged (the messages below N now are C
 * exactly when none was), and if something was, which is unknowable: 410.
 *
 * Paging is by UID. The first page reads the target state (STATUS) before the
 * FETCH, so nothing after it is missed; later pages keep that target and go on
 * after the last UID given. A change made while paging to a UID already passed
 * is reported from the target state on. Only the `limit` lowest rows are kept
 * while a long answer streams in.
 */
import type { ChangedMessage, MessageKey, ModseqChanges, ModseqChangesQuery, ModseqState } from '../../mail/backend.ts'
import { GatewayError } from '../../mail/errors.ts'
import { UpstreamRefusal } from './errors.ts'
import { atom, type FetchRow, type Parsed, run, seq } from './exec.ts'
import { keywordsOf } from './keywords.ts'
import { rowsByUid } from './ops/rows.ts'
import { searchUids } from './search.ts'
import type { ImapSession } from './session.ts'
import { type Range, UidSet } from './uid-set.ts'

const gone = (why: string): GatewayError => new GatewayError('cannot-calculate-changes', `${why}: list the mailbox again`)

/** The selected-or-not mailbox's state from one STATUS; null without CONDSTORE. */
export async function modseqState (session: ImapSession, path: string): Promise<ModseqState | null> {
  const caps = session.client.capabilities
  if (!caps.has('CONDSTORE') && !caps.has('QRESYNC')) return null
  // STATUS on the selected mailbox answers from the connection's view, which
  // only learns of other clients' changes at a sync point: NOOP is one.
  const selected = session.client.mailbox
  if (selected !== false && selected.path === path) await session.sync()
  const status = await session.cmd(session.client.status(path, { uidValidity: true, highestModseq: true, messages: true, uidNext: true }))
  if (status === false || status.highestModseq === undefined || status.uidValidity === undefined || status.uidNext === undefined || status.messages === undefined) return null
  return { validity: status.uidValidity.toString(), modseq: status.highestModseq.toString(), uidNext: status.uidNext, messages: status.messages }
}

const same = (a: ModseqState, b: ModseqState): boolean =>
  a.validity === b.validity && a.modseq === b.modseq && a.uidNext === b.uidNext && a.messages === b.messages

/** Without VANISHED: true when no message that existed at `since` was expunged. */
async function noneExpunged (session: ImapSession, since: ModseqState): Promise<boolean> {
  const below = since.uidNext <= 1 ? 0 : (await searchUids(session, { uid: `1:${since.uidNext - 1}` })).size
  return below === since.messages
}

/** UID sets of VANISHED responses (RFC 7162 §3.2.10), with or without (EARLIER). */
function vanishedSet (u: Parsed): string | null {
  const last = u.attributes?.[u.attributes.length - 1]
  return last !== undefined && !Array.isArray(last) && typeof last.value === 'string' ? last.value : null
}

function vanishedRanges (sets: string[]): Range[] {
  try {
    return UidSet.fromSequence(sets.join(',')).ranges
  } catch {
    throw new UpstreamRefusal('the IMAP server sent a malformed VANISHED response')
  }
}

type Item = { uid: number, row: FetchRow | null }

/** Rows and vanished ranges merged in UID order. */
function * inOrder (rows: FetchRow[], vanished: Range[]): Generator<Item> {
  let r = 0
  for (const [lo, hi] of vanished) {
    for (let uid = lo; uid <= hi; uid++) {
      while (r < rows.length && rows[r]!.uid < uid) yield { uid: rows[r]!.uid, row: rows[r++]! }
      if (r < rows.length && rows[r]!.uid === uid) r++ // gone after all: the VANISHED wins
      yield { uid, row: null }
    }
  }
  while (r < rows.length) yield { uid: rows[r]!.uid, row: rows[r++]! }
}

export async function changesSince (session: ImapSession, path: string, q: ModseqChangesQuery): Promise<ModseqChanges> {
  return await session.inMailbox(path, async (validity) => {
    if (validity !== q.since.validity) throw gone('the mailbox was recreated (UIDVALIDITY changed)')
    const to = q.to ?? await modseqState(session, path)
    if (to === null) throw gone('the server no longer offers CONDSTORE')
    if (BigInt(to.modseq) < BigInt(q.since.modseq) || to.uidNext < q.since.uidNext) throw gone('the server\'s state went back')
    const out: ModseqChanges = { to, created: [], updated: [], destroyed: [], next: null }
    if (q.to === undefined && same(q.since, to)) return out
    const qresync = session.client.enabled.has('QRESYNC')
    if (!qresync && q.after === 0 && !(await noneExpunged(session, q.since))) {
      throw gone('messages were expunged and this server cannot say which (no QRESYNC)')
    }
    const lo = q.after + 1
    const hi = to.uidNext - 1
    if (lo > hi) return out

    const rows = new Map<number, FetchRow>()
    const vanished: string[] = []
    let cap = Infinity // rows at and above were dropped to keep memory bounded
    const onRow = (row: FetchRow): void => {
      if (row.uid < lo || row.uid > hi || row.uid >= cap) return
      rowsByUid([row], rows)
      if (rows.size > 2 * q.limit + 64) {
        const kept = [...rows.keys()].sort((a, b) => a - b)
        cap = kept[q.limit]!
        for (const uid of kept.slice(q.limit)) rows.delete(uid)
      }
    }
    const vanishedHandler = async (u: Parsed): Promise<void> => {
      const set = vanishedSet(u)
      if (set !== null) vanished.push(set)
      // a plain VANISHED is a live expunge: imapflow's own handler keeps its message count
      const earlier = Array.isArray(u.attributes?.[0])
      if (!earlier) await (session.client as unknown as { untaggedVanished: (u: Parsed) => Promise<void> }).untaggedVanished(u)
    }
    const modifier = [atom('CHANGEDSINCE'), atom(q.since.modseq), ...(qresync ? [atom('VANISHED')] : [])]
    await run(session, 'UID FETCH', [seq(`${lo}:${hi}`), [atom('UID'), atom('FLAGS'), atom('MODSEQ')], modifier], {
      onRow,
      untagged: { VANISHED: vanishedHandler },
    })

    // destroyed: existed at `since` (below its UIDNEXT), within this page's reach
    const top = Math.min(q.since.uidNext - 1, cap - 1)
    const gonePart = vanishedRanges(vanished)
      .map(([a, b]): Range => [Math.max(a, lo), Math.min(b, top)])
      .filter(([a, b]) => a <= b)
    const sorted = [...rows.values()].sort((a, b) => a.uid - b.uid)
    const key = (uid: number): MessageKey => ({ mailbox: path, validity, key: String(uid) })
    let taken = 0
    let last = 0
    for (const { uid, row } of inOrder(sorted, gonePart)) {
      if (taken === q.limit) {
        out.next = last
        break
      }
      taken++
      last = uid
      const existed = uid < q.since.uidNext
      const flags = row?.flags ?? null
      if (row === null || flags?.some(f => f.toLowerCase() === '\\deleted') === true) {
        if (existed) out.destroyed.push(key(uid))
        continue
      }
      const changed: ChangedMessage = { key: key(uid), keywords: flags === null ? null : keywordsOf(flags) }
      if (existed) out.updated.push(changed)
      else out.created.push(changed)
    }
    if (out.next === null && cap !== Infinity) out.next = last
    return out
  })
}
