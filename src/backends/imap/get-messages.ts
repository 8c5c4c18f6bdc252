/**
 * Full messages of one mailbox, batched, parsed by the normaliser (small ones
 * after the lease is returned, so parsing never holds a connection idle).
 *
 * 1. UID FETCH FLAGS INTERNALDATE RFC822.SIZE for every asked UID (missing → null;
 *    no NOOP first: only when a UID is missing is the mailbox synced and asked again).
 * 2. Small messages (≤ 1 MiB) in UID FETCH BODY.PEEK[] batches of ≤ 8 MiB in all.
 * 3. Larger ones one at a time, streamed in partial FETCHes into parseMessage:
 *    a big message is never held in memory whole.
 * Keys whose UIDVALIDITY is not the mailbox's current one → 'stale-id'.
 */
import type { FetchMessageObject } from 'imapflow'
import type { MessageKey, MessageRecord, ParsedMessage } from '../../mail/backend.ts'
import { GatewayError } from '../../mail/errors.ts'
import { parseMessage } from '../../mail/normalise/index.ts'
import { keywordsOf } from './keywords.ts'
import { utcIso } from './list-messages.ts'
import { RAW_CHUNK, RawMessageStream, fetchChunk } from './raw-stream.ts'
import { sequenceOf } from './search.ts'
import type { ImapSession } from './session.ts'

const SMALL = 1024 * 1024
const BATCH_BYTES = 8 * 1024 * 1024

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

function batches (metas: FetchMessageObject[]): number[][] {
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

/** Stream BODY[] of a large message into the parser; resolves once the connection is free again. */
async function parseLarge (session: ImapSession, uid: number): Promise<ParsedMessage | null> {
  const first = await fetchChunk(session, uid, 0, RAW_CHUNK)
  if (first === null) return null
  let clean = true
  let freed!: () => void
  const done = new Promise<void>(resolve => { freed = resolve })
  const stream = new RawMessageStream(session, uid, first.data, first.size, (ok) => { clean = ok; freed() })
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

/** The upstream part, under the lease: no CPU-heavy parsing of small messages here. */
export async function fetchMessagesIn (session: ImapSession, path: string, keys: MessageKey[]): Promise<Fetched> {
  return session.inMailbox(path, async (validity) => {
    checkValidity(keys, validity)
    const out: Fetched = { validity, metas: new Map(), sources: [], parsed: new Map() }
    const uids = [...new Set(keys.map(uidOf).filter((u): u is number => u !== null))]
    if (uids.length === 0) return out
    const fetchMetas = (some: number[]): Promise<FetchMessageObject[]> =>
      session.cmd(session.client.fetchAll(sequenceOf(some), { uid: true, flags: true, internalDate: true, size: true }, { uid: true }))
    const metas = await fetchMetas(uids)
    if (metas.length < uids.length) {
      // Read without a sync point: a UID delivered since this connection last
      // synced is not in its view yet. Sync once and ask for the missing ones.
      const seen = new Set(metas.map(m => m.uid))
      await session.sync()
      metas.push(...await fetchMetas(uids.filter(u => !seen.has(u))))
    }
    for (const m of metas) out.metas.set(m.uid, m)

    for (const batch of batches(metas.filter(m => (m.size ?? 0) <= SMALL))) {
      const sources = await session.cmd(session.client.fetchAll(sequenceOf(batch), { uid: true, source: true }, { uid: true }))
      for (const m of sources) if (m.source !== undefined) out.sources.push({ uid: m.uid, source: m.source })
    }
    for (const m of metas.filter(m => (m.size ?? 0) > SMALL)) {
      const parsed = await parseLarge(session, m.uid)
      if (parsed !== null) out.parsed.set(m.uid, parsed)
    }
    return out
  }, { sync: false })
}

/** After the lease: parse the small sources and build the records. */
export async function recordsOf (path: string, fetched: Fetched): Promise<Map<number, MessageRecord>> {
  const results = new Map<number, MessageRecord>()
  const store = (uid: number, parsed: ParsedMessage): void => {
    const meta = fetched.metas.get(uid)
    results.set(uid, {
      ...parsed,
      key: { mailbox: path, validity: fetched.validity, key: String(uid) },
      size: meta?.size ?? parsed.size,
      receivedAt: utcIso(meta?.internalDate),
      keywords: keywordsOf(meta?.flags),
    })
  }
  for (const { uid, source } of fetched.sources) store(uid, await parseMessage(source))
  for (const [uid, parsed] of fetched.parsed) store(uid, parsed)
  return results
}
