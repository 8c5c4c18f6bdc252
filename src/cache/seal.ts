/**
 * Sealing of cached values: AES-256-GCM under a per-account key, with the
 * cache key as associated data; optional deflate for large plaintexts.
 *
 * Envelope: [version=1][flags][iv 12][gcm tag 16][ciphertext]
 *   flags bit 0: plaintext was deflate-raw compressed before encryption.
 *   AAD = version ‖ flags ‖ cache key (UTF-8).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { pipeline, Readable } from 'node:stream'
import { promisify } from 'node:util'
import { createDeflateRaw, deflateRaw, deflateRawSync, inflateRaw, inflateRawSync } from 'node:zlib'

const VERSION = 1
const FLAG_DEFLATE = 1
const IV_BYTES = 12
const TAG_BYTES = 16
const HEADER_BYTES = 2 + IV_BYTES + TAG_BYTES

/**
 * Plaintexts at least this large are tried with deflate. Below it the saving is
 * a few KiB per entry, and a zlib stream per call (its state alone is larger
 * than the entry) cost about a tenth of a cold read's CPU in the bench.
 */
export const COMPRESS_MIN_BYTES = 16 * 1024
/** Up to this size (de)compression runs inline: less work than a thread-pool round trip. */
const SYNC_MAX_BYTES = 256 * 1024
/** Upper bound when inflating (guards a corrupted entry). */
const MAX_PLAINTEXT_BYTES = 256 * 1024 * 1024
/**
 * zlib's output chunk off the loop. Its default, 16 KiB, costs a thread-pool
 * round trip and a JavaScript callback per 16 KiB: inflating a 1.1 MB entry
 * took 0.8–1.1 ms of the event loop that way, 0.27 ms in 256 KiB chunks.
 */
const ASYNC_CHUNK_BYTES = 256 * 1024

const deflateAsync = promisify(deflateRaw)
const inflateAsync = promisify(inflateRaw)

/**
 * A large plaintext given piece by piece, so that it is never held whole: its
 * length in bytes and a way to make its pieces (called a second time when
 * deflate does not pay). A 4 MiB cache entry had been a 4 MiB Buffer first.
 */
export interface Pieces { length: number, pieces: () => Iterable<Buffer> }

export async function seal (key: Buffer, cacheKey: string, plaintext: Buffer | Pieces): Promise<Buffer> {
  if (!Buffer.isBuffer(plaintext)) return await sealPieces(key, cacheKey, plaintext)
  let flags = 0
  let body = plaintext
  if (plaintext.length >= COMPRESS_MIN_BYTES) {
    const packed = plaintext.length <= SYNC_MAX_BYTES ? deflateRawSync(plaintext, { level: 1 }) : await deflateAsync(plaintext, { level: 1, chunkSize: ASYNC_CHUNK_BYTES })
    // Keep it only if it saves at least an eighth.
    if (packed.length <= plaintext.length - (plaintext.length >> 3)) {
      body = packed
      flags |= FLAG_DEFLATE
    }
  }
  const header = Buffer.from([VERSION, flags])
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.concat([header, Buffer.from(cacheKey, 'utf8')]))
  const ct = Buffer.concat([cipher.update(body), cipher.final()])
  return Buffer.concat([header, iv, cipher.getAuthTag(), ct])
}

/** The deflated pieces, or null when that does not save an eighth (given up as soon as it cannot). */
async function deflatePieces (plain: Pieces): Promise<Buffer[] | null> {
  const most = plain.length - (plain.length >> 3)
  const input = Readable.from(plain.pieces(), { objectMode: false })
  const z = createDeflateRaw({ level: 1, chunkSize: ASYNC_CHUNK_BYTES })
  // a piece that cannot be made fails the deflate (and the read below) instead of leaving it waiting
  pipeline(input, z, () => {})
  const out: Buffer[] = []
  let bytes = 0
  try {
    for await (const chunk of z as AsyncIterable<Buffer>) {
      bytes += chunk.length
      if (bytes > most) return null
      out.push(chunk)
    }
    return out
  } finally {
    input.destroy()
    z.destroy()
  }
}

/** seal() of pieces: deflated as they come, encrypted straight into the envelope. */
async function sealPieces (key: Buffer, cacheKey: string, plain: Pieces): Promise<Buffer> {
  const packed = plain.length >= COMPRESS_MIN_BYTES ? await deflatePieces(plain) : null
  const body = packed ?? plain.pieces()
  const length = packed === null ? plain.length : packed.reduce((n, c) => n + c.length, 0)
  const header = Buffer.from([VERSION, packed === null ? 0 : FLAG_DEFLATE])
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.concat([header, Buffer.from(cacheKey, 'utf8')]))
  const out = Buffer.allocUnsafe(HEADER_BYTES + length)
  let at = HEADER_BYTES
  for (const piece of body) at += cipher.update(piece).copy(out, at)
  at += cipher.final().copy(out, at)
  if (at !== out.length) throw new RangeError(`sealed ${at - HEADER_BYTES} of ${length} bytes`)
  header.copy(out, 0)
  iv.copy(out, 2)
  cipher.getAuthTag().copy(out, 2 + IV_BYTES)
  return out
}

/** The plaintext, or null when the envelope is malformed or fails authentication. */
export async function unseal (key: Buffer, cacheKey: string, envelope: Buffer): Promise<Buffer | null> {
  if (envelope.length < HEADER_BYTES || envelope[0] !== VERSION) return null
  const flags = envelope[1] ?? 0
  if ((flags & ~FLAG_DEFLATE) !== 0) return null
  const header = envelope.subarray(0, 2)
  const iv = envelope.subarray(2, 2 + IV_BYTES)
  const tag = envelope.subarray(2 + IV_BYTES, HEADER_BYTES)
  let body: Buffer
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv)
    decipher.setAAD(Buffer.concat([header, Buffer.from(cacheKey, 'utf8')]))
    decipher.setAuthTag(tag)
    body = Buffer.concat([decipher.update(envelope.subarray(HEADER_BYTES)), decipher.final()])
  } catch {
    return null
  }
  if ((flags & FLAG_DEFLATE) === 0) return body
  try {
    // inline only when the plaintext is likely within the bound (JSON deflates 4–8×)
    if (body.length * 8 <= SYNC_MAX_BYTES) {
      try {
        return inflateRawSync(body, { maxOutputLength: SYNC_MAX_BYTES })
      } catch (err) {
        // a small ciphertext that inflates past the inline bound: done off the loop below
        if ((err as { code?: unknown }).code !== 'ERR_BUFFER_TOO_LARGE') throw err
      }
    }
    return await inflateAsync(body, { maxOutputLength: MAX_PLAINTEXT_BYTES, chunkSize: ASYNC_CHUNK_BYTES })
  } catch {
    return null
  }
}
