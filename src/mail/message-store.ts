/**
 * Where parsed messages live: a small in-process memo of decoded entries in
 * front of the shared cache (Redis or the in-process store). A memo hit skips
 * the round trip, the decryption and the JSON parse; the shared cache keeps
 * entries across instances and restarts. Freshness is not the memo's concern:
 * entries carry their own checkedAt/validator, which the reader checks on
 * every read wherever the entry came from. Keys carry the account id, so the
 * memo is account-scoped like the shared cache. A memo entry is stamped with
 * the account's write epoch it was made in (freshness.ts) and is used only
 * under that epoch: another instance's write sends the next read to the
 * shared copy it rewrote.
 */
import { LRUCache } from 'lru-cache'
import { singleFlight } from '../cache/single-flight.ts'
import { ByteBudget } from '../util/byte-budget.ts'
import type { AccountContext, MessageKey, MessageRecord } from './backend.ts'
import type { BufferPieces, CachePort } from './cache-port.ts'
import { isLargeRecord, turnBeforeLarge } from './large-records.ts'
import { NORMALISER_VERSION } from './normalise/index.ts'

export interface CachedMessage {
  record: MessageRecord
  /** When keywords/existence were last confirmed upstream (ms). */
  checkedAt: number
  /** The mailbox validator taken before that confirmation (null: none). */
  validator?: string | null
}

const CONTENT_TTL_SECONDS = 24 * 3600
/** Shared-cache reads of parsed messages at once (see MessageStore). */
const SHARED_READS = 4
/**
 * The shared-cache kind of parsed messages: a normaliser or record change makes
 * a new kind, never a stale read (`m`: records carry their modseq).
 */
const MESSAGE_KIND = `msg-v${NORMALISER_VERSION}m`
/** Parsed messages above this (characters of text + html) are not cached. */
const MAX_CACHED_CHARS = 4 * 1024 * 1024

/**
 * A cached entry's bytes: a 4-byte length, the JSON of the entry without its
 * bodies, then the text and the HTML as UTF-8. In JSON a body of control
 * characters is six times its UTF-8 (`\u0001` each): 25 MB written, sealed
 * and read back for two 2 MiB bodies; as UTF-8 it is what the bodies are.
 * A body that UTF-8 cannot carry as it is (a lone surrogate) keeps the JSON.
 *
 * Made in pieces of at most ENTRY_PIECE_CHARS of a body, which the cache seals
 * as they come: the entry of a large record is never a Buffer of its own (4
 * MiB for two 2 MiB bodies, next to the record it copies).
 */
export function entryPieces (entry: CachedMessage): BufferPieces {
  const { text, html, ...rest } = entry.record
  const raw = (s: string | null): string | null => s === null || !wellFormed(s) ? null : s
  const t = raw(text)
  const h = raw(html)
  const tBytes = t === null ? null : Buffer.byteLength(t, 'utf8')
  const hBytes = h === null ? null : Buffer.byteLength(h, 'utf8')
  const record = { ...rest, ...(t === null ? { text } : {}), ...(h === null ? { html } : {}) }
  const head = JSON.stringify({ ...entry, record, bodies: [tBytes, hBytes] })
  const headBytes = Buffer.byteLength(head, 'utf8')
  function * pieces (): Generator<Buffer> {
    const first = Buffer.allocUnsafe(4 + headBytes)
    first.writeUInt32BE(headBytes)
    first.write(head, 4, 'utf8')
    yield first
    for (const body of [t, h]) {
      if (body === null) continue
      for (let i = 0; i < body.length;) {
        let end = Math.min(body.length, i + ENTRY_PIECE_CHARS)
        // a surrogate pair stays in one piece (well-formed: a high half is followed by its low half)
        if (end < body.length && (body.charCodeAt(end - 1) & 0xfc00) === 0xd800) end--
        yield Buffer.from(body.slice(i, end), 'utf8')
        i = end
      }
    }
  }
  return { length: 4 + headBytes + (tBytes ?? 0) + (hBytes ?? 0), pieces }
}

/** UTF-16 units of a body per piece of an entry (at most 192 KiB of UTF-8). */
const ENTRY_PIECE_CHARS = 64 * 1024

/** The entry's bytes whole (entryPieces joined): for small entries and tests. */
export function encodeEntry (entry: CachedMessage): Buffer {
  const { length, pieces } = entryPieces(entry)
  return Buffer.concat([...pieces()], length)
}

/** No lone surrogate (String.prototype.isWellFormed, Node 20; not in this TypeScript lib). */
const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed: () => boolean }).isWellFormed()

export function decodeEntry (buf: Buffer): CachedMessage | null {
  try {
    const headEnd = 4 + buf.readUInt32BE(0)
    const { bodies, ...entry } = JSON.parse(buf.toString('utf8', 4, headEnd)) as CachedMessage & { bodies: [number | null, number | null] }
    const [t, h] = bodies
    const textEnd = headEnd + (t ?? 0)
    if (t !== null) entry.record.text = buf.toString('utf8', headEnd, textEnd)
    if (h !== null) entry.record.html = buf.toString('utf8', textEnd, textEnd + h)
    return entry
  } catch {
    return null
  }
}

/** A message key as cache key parts (hashed by the cache, never stored in clear). */
export const keyParts = (key: MessageKey): string[] => [key.mailbox, key.validity ?? '', key.key]

/** One string naming a message inside an account, for in-process maps. */
export const messageRef = (accountId: string, key: MessageKey): string => [accountId, ...keyParts(key)].join('\0')

function approxBytes (entry: CachedMessage): number {
  const r = entry.record
  return 2 * ((r.text?.length ?? 0) + (r.html?.length ?? 0) + r.preview.length) + 160 * (r.headers.length + r.attachments.length) + 2048
}

interface Memo {
  entry: CachedMessage
  epoch: string | null
}

export class MessageStore {
  readonly #memo: LRUCache<string, Memo>
  /**
   * Concurrent reads of one entry under one write epoch share one shared-cache
   * read and decode (a large entry is MBs each); a read under a newer epoch
   * never joins one that began before the write.
   */
  readonly #reads = singleFlight<string, CachedMessage | null>()
  /**
   * Shared-cache reads in progress at once, process-wide: an entry's size is known
   * only once it is read, decrypted and inflated, and a large one holds about
   * three times its bodies meanwhile, so a burst of reads of large messages
   * takes its turn (small ones take microseconds each).
   */
  readonly #readSlots = new ByteBudget(SHARED_READS, { groupShare: 1 })

  constructor (private readonly cache: CachePort, memoBytes: number) {
    const maxSize = Math.max(8, memoBytes)
    // one entry may take at most an eighth: a few large messages never flush the memo
    this.#memo = new LRUCache<string, Memo>({ maxSize, maxEntrySize: Math.floor(maxSize / 8), sizeCalculation: m => approxBytes(m.entry), ttl: CONTENT_TTL_SECONDS * 1000 })
  }

  /** The entry, from the memo when it was made under `epoch`, else from the shared cache (`shared`: always). */
  async get (ctx: AccountContext, key: MessageKey, epoch: string | null = null, shared = false): Promise<CachedMessage | null> {
    const mk = messageRef(ctx.accountId, key)
    const memo = shared ? undefined : this.#memo.get(mk)
    if (memo !== undefined && memo.epoch === epoch) return memo.entry
    return await this.#reads(`${mk}\0${epoch ?? ''}\0${shared ? 's' : ''}`, async () => {
      const slot = this.#readSlots.permit()
      try {
        await slot.acquire(1)
        const bytes = await this.cache.forAccount(ctx.accountId).getBuffer(MESSAGE_KIND, keyParts(key))
        const entry = bytes === null ? null : decodeEntry(bytes)
        if (entry !== null && !shared) this.#memo.set(mk, { entry, epoch })
        else if (entry === null) this.#memo.delete(mk)
        return entry
      } finally {
        slot.release()
      }
    })
  }

  async set (ctx: AccountContext, key: MessageKey, entry: CachedMessage, epoch: string | null = null): Promise<void> {
    const r = entry.record
    if ((r.text?.length ?? 0) + (r.html?.length ?? 0) > MAX_CACHED_CHARS) return
    this.#memo.set(messageRef(ctx.accountId, key), { entry, epoch })
    await turnBeforeLarge(r)
    await this.cache.forAccount(ctx.accountId).setBuffer(MESSAGE_KIND, keyParts(key), isLargeRecord(r) ? entryPieces(entry) : encodeEntry(entry), CONTENT_TTL_SECONDS)
  }

  /** The decoded entry this process holds, if any (no shared-cache read). */
  local (ctx: AccountContext, key: MessageKey): CachedMessage | null {
    return this.#memo.get(messageRef(ctx.accountId, key))?.entry ?? null
  }

  /**
   * A newer confirmation of an entry whose record did not change: kept in the
   * memo only. The shared copy keeps its older checkedAt, which can only make
   * another instance recheck sooner, never serve staler.
   */
  touch (ctx: AccountContext, key: MessageKey, entry: CachedMessage, epoch: string | null = null): void {
    this.#memo.set(messageRef(ctx.accountId, key), { entry, epoch })
  }

  async del (ctx: AccountContext, key: MessageKey): Promise<void> {
    this.#memo.delete(messageRef(ctx.accountId, key))
    await this.cache.forAccount(ctx.accountId).del(MESSAGE_KIND, keyParts(key))
  }
}
