/**
 * Where a message to send waits between being built and being sent and
 * APPENDed to Sent: small ones in memory, larger ones in a private temp file
 * (0600, removed on dispose), so one 20 MB message costs a few 64 KB buffers
 * of memory however many readers it has. It notes whether the message holds
 * 8-bit octets (the submission then needs 8BITMIME). At most `limit` octets: one more is
 * `payload-too-large`, and the spool is removed.
 */
import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { GatewayError } from '../../mail/errors.ts'

/** Messages up to this size stay in memory. */
const IN_MEMORY = 256 * 1024
const EIGHT_BIT = /[\x80-\xff]/

export interface Spool {
  size: number
  /** Holds an octet above 127: needs a server that offers 8BITMIME (RFC 6152). */
  eightBit: boolean
  open: () => Readable
  dispose: () => Promise<void>
}

export async function spool (source: AsyncIterable<Buffer | string>, limit: number): Promise<Spool> {
  const chunks: Buffer[] = []
  let size = 0
  let eightBit = false
  let file: { path: string, handle: Awaited<ReturnType<typeof open>> } | null = null
  const removeFile = async (): Promise<void> => {
    if (file === null) return
    await file.handle.close().catch(() => {})
    await rm(file.path, { force: true })
  }
  try {
    for await (const raw of source) {
      const chunk = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw
      size += chunk.length
      if (!eightBit) eightBit = EIGHT_BIT.test(chunk.toString('latin1'))
      if (size > limit) throw new GatewayError('payload-too-large', `a message may be at most ${limit} octets here`)
      if (file === null && size <= IN_MEMORY) { chunks.push(chunk); continue }
      if (file === null) {
        const path = join(tmpdir(), `mgw-send-${randomBytes(12).toString('hex')}.eml`)
        file = { path, handle: await open(path, 'wx', 0o600) }
        for (const c of chunks) await file.handle.write(c)
        chunks.length = 0
      }
      await file.handle.write(chunk)
    }
  } catch (err) {
    await removeFile()
    throw err
  }
  if (file === null) {
    const whole = Buffer.concat(chunks)
    return { size, eightBit, open: () => Readable.from([whole]), dispose: async () => {} }
  }
  const path = file.path
  await file.handle.close()
  let disposed: Promise<void> | undefined
  return {
    size,
    eightBit,
    open: () => createReadStream(path, { highWaterMark: 64 * 1024 }),
    dispose: async () => { disposed ??= rm(path, { force: true }); await disposed },
  }
}
