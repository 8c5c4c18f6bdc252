/**
 * Sealing of cached values: AES-256-GCM under a per-account key, with the
 * cache key as associated data; optional deflate for large plaintexts.
 *
 * Envelope: [version=1][flags][iv 12][gcm tag 16][ciphertext]
 *   flags bit 0: plaintext was deflate-raw compressed before encryption.
 *   AAD = version ‖ flags ‖ cache key (UTF-8).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { deflateRaw, inflateRaw } from 'node:zlib'

const VERSION = 1
const FLAG_DEFLATE = 1
const IV_BYTES = 12
const TAG_BYTES = 16
const HEADER_BYTES = 2 + IV_BYTES + TAG_BYTES

/** Plaintexts at least this large are tried with deflate. */
export const COMPRESS_MIN_BYTES = 2048
/** Upper bound when inflating (guards a corrupted entry). */
const MAX_PLAINTEXT_BYTES = 256 * 1024 * 1024

const deflateAsync = promisify(deflateRaw)
const inflateAsync = promisify(inflateRaw)

export async function seal (key: Buffer, cacheKey: string, plaintext: Buffer): Promise<Buffer> {
  let flags = 0
  let body = plaintext
  if (plaintext.length >= COMPRESS_MIN_BYTES) {
    const packed = await deflateAsync(plaintext, { level: 1 })
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
    return await inflateAsync(body, { maxOutputLength: MAX_PLAINTEXT_BYTES })
  } catch {
    return null
  }
}
