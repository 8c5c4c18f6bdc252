/**
 * Raw sources of small messages, cached: content at a message key never
 * changes, so the bytes can be served again without an upstream round trip.
 * A miss streams from upstream as always and, when the message turns out to
 * be small, keeps a copy while passing the bytes through (never buffering a
 * large message: collection stops once the cap is passed).
 */
import { PassThrough, Readable } from 'node:stream'
import type { AccountContext, MailBackend, MessageKey, RawSource } from './backend.ts'
import type { CachePort } from './cache-port.ts'
import { keyParts } from './message-store.ts'

/** Raw messages up to this size are cached. */
export const RAW_CACHE_MAX_BYTES = 256 * 1024
const RAW_TTL_SECONDS = 24 * 3600
const RAW_KIND = 'raw'

/** A message that left its mailbox: its bytes are not served again at that key. */
export async function forgetRaw (cache: CachePort, ctx: AccountContext, key: MessageKey): Promise<void> {
  await cache.forAccount(ctx.accountId).del(RAW_KIND, keyParts(key))
}

/**
 * `confirm` checks that the message still exists (and its mailbox's
 * UIDVALIDITY, and through the pool the credentials) before a hit is served:
 * cached bytes are never a way around what the server says now.
 */
export async function openRawCached (cache: CachePort, backend: MailBackend, ctx: AccountContext, key: MessageKey, confirm: () => Promise<void>): Promise<RawSource> {
  const account = cache.forAccount(ctx.accountId)
  const hit = await account.getBuffer(RAW_KIND, keyParts(key))
  if (hit !== null) {
    await confirm()
    return { stream: Readable.from([hit]), size: hit.length }
  }

  const upstream = await backend.openRaw(ctx, key)
  if (upstream.size !== null && upstream.size > RAW_CACHE_MAX_BYTES) return upstream

  const chunks: Buffer[] = []
  let length = 0
  let keep = true
  const tap = new PassThrough()
  upstream.stream.on('data', (chunk: Buffer) => {
    if (!keep) return
    length += chunk.length
    if (length > RAW_CACHE_MAX_BYTES) {
      keep = false
      chunks.length = 0
    } else chunks.push(chunk)
  })
  // the copy is stored before the response ends, so the caller's next read finds it
  upstream.stream.once('end', () => {
    const stored = keep ? account.setBuffer(RAW_KIND, keyParts(key), Buffer.concat(chunks, length), RAW_TTL_SECONDS) : Promise.resolve()
    stored.catch(() => {}).finally(() => tap.end())
  })
  upstream.stream.once('error', (err) => tap.destroy(err))
  tap.once('close', () => { if (!upstream.stream.readableEnded) upstream.stream.destroy() })
  upstream.stream.pipe(tap, { end: false })
  return { stream: tap, size: upstream.size }
}
