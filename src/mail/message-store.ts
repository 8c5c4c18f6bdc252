/**
 * Where parsed messages live: a small in-process memo of decoded entries in
 * front of the shared cache (Redis or the in-process store). A memo hit skips
 * the round trip, the decryption and the JSON parse; the shared cache keeps
 * entries across instances and restarts. Freshness is not the memo's concern:
 * entries carry their own checkedAt/validator, which the reader checks on
 * every read wherever the entry came from. Keys carry the account id, so the
 * memo is account-scoped like the shared cache.
 */
import { LRUCache } from 'lru-cache'
import type { AccountContext, MessageKey, MessageRecord } from './backend.ts'
import type { CachePort } from './cache-port.ts'
import { turnBeforeLarge } from './large-records.ts'
import { NORMALISER_VERSION } from './normalise/index.ts'

export interface CachedMessage {
  record: MessageRecord
  /** When keywords/existence were last confirmed upstream (ms). */
  checkedAt: number
  /** The mailbox validator taken before that confirmation (null: none). */
  validator?: string | null
}

const CONTENT_TTL_SECONDS = 24 * 3600
/** The shared-cache kind of parsed messages: a normaliser change makes a new kind, never a stale read. */
const MESSAGE_KIND = `msg-v${NORMALISER_VERSION}`
/** Parsed messages above this (characters of text + html) are not cached. */
const MAX_CACHED_CHARS = 4 * 1024 * 1024

/** A message key as cache key parts (hashed by the cache, never stored in clear). */
export const keyParts = (key: MessageKey): string[] => [key.mailbox, key.validity ?? '', key.key]

/** One string naming a message inside an account, for in-process maps. */
export const messageRef = (accountId: string, key: MessageKey): string => [accountId, ...keyParts(key)].join('\0')

function approxBytes (entry: CachedMessage): number {
  const r = entry.record
  return 2 * ((r.text?.length ?? 0) + (r.html?.length ?? 0) + r.preview.length) + 160 * (r.headers.length + r.attachments.length) + 2048
}

export class MessageStore {
  readonly #memo: LRUCache<string, CachedMessage>

  constructor (private readonly cache: CachePort, memoBytes: number) {
    const maxSize = Math.max(8, memoBytes)
    // one entry may take at most an eighth: a few large messages never flush the memo
    this.#memo = new LRUCache<string, CachedMessage>({ maxSize, maxEntrySize: Math.floor(maxSize / 8), sizeCalculation: approxBytes, ttl: CONTENT_TTL_SECONDS * 1000 })
  }

  async get (ctx: AccountContext, key: MessageKey): Promise<CachedMessage | null> {
    const mk = messageRef(ctx.accountId, key)
    const memo = this.#memo.get(mk)
    if (memo !== undefined) return memo
    const shared = await this.cache.forAccount(ctx.accountId).getJson<CachedMessage>(MESSAGE_KIND, keyParts(key))
    if (shared !== null) this.#memo.set(mk, shared)
    return shared
  }

  async set (ctx: AccountContext, key: MessageKey, entry: CachedMessage): Promise<void> {
    const r = entry.record
    if ((r.text?.length ?? 0) + (r.html?.length ?? 0) > MAX_CACHED_CHARS) return
    this.#memo.set(messageRef(ctx.accountId, key), entry)
    await turnBeforeLarge(r)
    await this.cache.forAccount(ctx.accountId).setJson(MESSAGE_KIND, keyParts(key), entry, CONTENT_TTL_SECONDS)
  }

  /** The decoded entry this process holds, if any (no shared-cache read). */
  local (ctx: AccountContext, key: MessageKey): CachedMessage | null {
    return this.#memo.get(messageRef(ctx.accountId, key)) ?? null
  }

  /**
   * A newer confirmation of an entry whose record did not change: kept in the
   * memo only. The shared copy keeps its older checkedAt, which can only make
   * another instance recheck sooner, never serve staler.
   */
  touch (ctx: AccountContext, key: MessageKey, entry: CachedMessage): void {
    this.#memo.set(messageRef(ctx.accountId, key), entry)
  }

  async del (ctx: AccountContext, key: MessageKey): Promise<void> {
    this.#memo.delete(messageRef(ctx.accountId, key))
    await this.cache.forAccount(ctx.accountId).del(MESSAGE_KIND, keyParts(key))
  }
}
