/**
 * Full messages of one mailbox, batched, parsed by the normaliser (small ones
 * after the lease is returned, so parsing never holds a connection idle).
 *
 * 1. One round trip for most messages: UID FETCH (FLAGS INTERNALDATE RFC822.SIZE
 *    BODY.PEEK[]<0.256K>) for every asked UID, at most 32 UIDs per command (missing →
 *    null; no NOOP first: only when a UID is missing is the mailbox synced and asked
 *    again). A message shorter than the prefix has arrived whole.
 * 2. Longer small messages (≤ 1 MiB): the rest after the prefix (BODY.PEEK[]<256K.…>),
 *    in batches of ≤ 8 MiB in all.
 * 3. Larger ones one at a time, streamed in partial FETCHes into parseMessage
 *    (starting from the prefix already here): a big message is never held in memory whole.
 *    Given `deliver`, each such record goes to it the moment it is parsed, so a
 *    batch never holds the records of all its large messages at once.
 * Between 1 and 2, the process-wide parse budget is taken for every octet held until
 * the records are built (the caller gives it back). Only if it is free now: a
 * read never waits for it under the lease. Refused, it drops what it fetched and
 * answers how much it needs; the caller waits with the lease given back and
 * calls again (which fetches the prefixes anew, now with the budget held).
 * Keys whose UIDVALIDITY is not the mailbox's current one are not fetched: the
 * caller (fetch-batches.ts) answers 'stale-id' to the read that asked for them.
 */
import type { FetchMessageObject } from 'imapflow'
import type { MessageKey, MessageRecord, ParsedMessage } from '../../mail/backend.ts'
import { GatewayError } from '../../mail/errors.ts'
import { parseFootprint } from '../../mail/normalise/index.ts'
import { parseMessage } from '../../mail/parse-pool/index.ts'
import type { Permit } from '../../util/byte-budget.ts'
import type { BudgetShort } from '../budget-wait.ts'
import { keywordsOf, modseqOf } from './keywords.ts'
import { utcIso } from './list-messages.ts'
import { RAW_CHUNK, RawMessageStream } from './raw-stream.ts'
import { fetchByUid } from './fetch-rows.ts'
import type { ImapSession } from './session.ts'

const SMALL = 1024 * 1024
const BATCH_BYTES = 8 * 1024 * 1024
/** The first FETCH asks for this much of each message: at most PER_FETCH × PREFIX in flight. */
export const FIRST_FETCH_PREFIX = RAW_CHUNK
const PREFIX = FIRST_FETCH_PREFIX
/** UIDs per FETCH command (fetch-batches.ts takes as many per batch). */
export const PER_FETCH = 32

export function uidOf (key: MessageKey): number | null {
  if (!/^\d{1,10}$/.test(key.key)) return null
  const uid = Number(key.key)
  return uid > 0 && uid <= 0xffffffff ? uid : null
}

export function checkValidity (keys: MessageKey[], validity: string): void {
  if (keys.some(k => k.validity !== validity)) {
    throw new GatewayError('stale-id', 'the mailbox changed (UIDVALIDITY) since this id was issued')
  }
}

function batches (metas: Array<{ uid: number, size: number | null }>): number[][] {
  const out: number[][] = []
  let current: number[] = []
  let bytes = 0
  for (const m of metas) {
    if (current.length > 0 && bytes + (m.size ?? 0) > BATCH_BYTES) {
      out.push(current)
      current = []
      bytes = 0
    }
    current.push(m.uid)
    bytes += m.size ?? 0
  }
  if (current.length > 0) out.push(current)
  return out
}

/** A message's first PREFIX octets, with its RFC822.SIZE. */
interface Head { uid: number, data: Buffer, size: number | null }

/** Stream BODY[] of a large message into the parser; resolves once the connection is free again. */
async function parseLarge (session: ImapSession, first: Head): Promise<ParsedMessage> {
  let clean = true
  let freed!: () => void
  const done = new Promise<void>(resolve => { freed = resolve })
  const stream = new RawMessageStream(session, first.uid, first.data, first.size, (ok) => { clean = ok; freed() })
  let parsed: ParsedMessage
  try {
    parsed = await parseMessage(stream)
  } finally {
    stream.destroy()
    await done
  }
  if (!clean) throw new GatewayError('upstream-unavailable', 'the connection to the mail server was lost')
  return parsed
}

/** What one lease fetched: metadata, small sources still to parse, large ones parsed while streaming. */
export interface Fetched {
  validity: string
  metas: Map<number, FetchMessageObject>
  sources: Array<{ uid: number, source: Buffer }>
  parsed: Map<number, ParsedMessage>
}

/**
 * The upstream part, under the lease: no CPU-heavy parsing of small messages here.
 * Once the first FETCH has told the sizes, `permit` must cover everything this
 * call will hold until recordsOf has parsed it (the caller releases it after that):
 * held already, or free now; else nothing is kept and the need is answered.
 */
export async function fetchMessagesIn (session: ImapSession, path: string, keys: MessageKey[], permit?: Permit, deliver?: (uid: number, record: MessageRecord, validity: string) => void): Promise<Fetched | BudgetShort> {
  return session.inMailbox(path, async (validity) => {
    const out: Fetched = { validity, metas: new Map(), sources: [], parsed: new Map() }
    // ids of another UIDVALIDITY name other messages: not fetched (the caller reports them stale)
    const current = keys.filter(k => k.validity === validity)
    const uids = [...new Set(current.map(uidOf).filter((u): u is number => u !== null))]
    if (uids.length === 0) return out
    // a UID answered without its octets (only another client's flags update arrived) is missing
    const fetchFirst = async (some: number[]): Promise<FetchMessageObject[]> => {
      const got: FetchMessageObject[] = []
      for (let i = 0; i < some.length; i += PER_FETCH) {
        const rows = await fetchByUid(session, some.slice(i, i + PER_FETCH), { flags: true, internalDate: true, size: true, source: { start: 0, maxLength: PREFIX } })
        for (const m of rows.values()) if (m.source !== undefined) got.push(m)
      }
      return got
    }
    const firsts = await fetchFirst(uids)
    if (firsts.length < uids.length) {
      // Read without a sync point: a UID delivered since this connection last
      // synced is not in its view yet. Sync once and ask for the missing ones.
      const seen = new Set(firsts.map(m => m.uid))
      await session.sync()
      firsts.push(...await fetchFirst(uids.filter(u => !seen.has(u))))
    }
    const longer: Head[] = []
    const large: Head[] = []
    for (const m of firsts) {
      const data = m.source as Buffer
      m.source = undefined // metas outlive the lease; the octets go to the parser only
      out.metas.set(m.uid, m)
      // shorter than asked: the whole message (longer: a server that ignored the range sent it all)
      const head = { uid: m.uid, data, size: m.size ?? null }
      if (data.length !== PREFIX) out.sources.push({ uid: m.uid, source: data })
      else if ((m.size ?? 0) <= SMALL) longer.push(head)
      else large.push(head)
    }

    // the octets here and to come, and one streamed parse at a time for the large ones
    const here = out.sources.reduce((n, s) => n + s.source.length, 0)
    const toCome = longer.reduce((n, h) => n + (h.size ?? 0), 0)
    const need = here + toCome + (large.length > 0 ? parseFootprint(null) : 0)
    if (permit !== undefined && !permit.hold(need)) return { short: need }

    // the rest of each longer message, after the prefix already here (the cap is only
    // syntax: imapflow's literal limit bounds what a server may send)
    const heads = new Map(longer.map(h => [h.uid, h.data]))
    for (const batch of batches(longer)) {
      const rests = await fetchByUid(session, batch, { source: { start: PREFIX, maxLength: BATCH_BYTES } })
      for (const m of rests.values()) {
        const head = heads.get(m.uid)
        // nothing after the prefix (NIL or ""): the prefix was the whole message
        if (head !== undefined) out.sources.push({ uid: m.uid, source: m.source === undefined ? head : Buffer.concat([head, m.source]) })
      }
    }
    for (const head of large) {
      const parsed = await parseLarge(session, head)
      if (deliver === undefined) out.parsed.set(head.uid, parsed)
      else deliver(head.uid, recordOf(path, validity, out.metas.get(head.uid), head.uid, parsed), validity)
    }
    return out
  }, { sync: false })
}

function recordOf (path: string, validity: string, meta: FetchMessageObject | undefined, uid: number, parsed: ParsedMessage): MessageRecord {
  return {
    ...parsed,
    key: { mailbox: path, validity, key: String(uid) },
    size: meta?.size ?? parsed.size,
    receivedAt: utcIso(meta?.internalDate),
    keywords: keywordsOf(meta?.flags),
    modseq: meta === undefined ? null : modseqOf(meta),
  }
}

/** After the lease: parse the small sources and build the records. */
export async function recordsOf (path: string, fetched: Fetched): Promise<Map<number, MessageRecord>> {
  const results = new Map<number, MessageRecord>()
  const store = (uid: number, parsed: ParsedMessage): void => {
    results.set(uid, recordOf(path, fetched.validity, fetched.metas.get(uid), uid, parsed))
  }
  for (const { uid, source } of fetched.sources) store(uid, await parseMessage(source))
  for (const [uid, parsed] of fetched.parsed) store(uid, parsed)
  return results
}
