/**
 * extractPart: streams the decoded bytes of one part (by IMAP section number)
 * out of a raw message stream, with backpressure: the raw input is only read
 * as fast as the returned stream is consumed. The same walker and decoders as
 * parseMessage, so the byte count equals the part's reported size.
 *
 * Resolves once the part's headers are read; rejects with GatewayError
 * ('not-found') when the message has no such leaf part. After the part ends
 * the rest of the input is drained without parsing (so an upstream response
 * completes normally); destroying the returned stream early destroys the input.
 */
import { PassThrough, type Readable } from 'node:stream'
import { GatewayError } from '../errors.ts'
import type { PartInfo } from './part-info.ts'
import { walk } from './walk.ts'

/**
 * Decoded data arrives a line at a time (~57 bytes for base64): handed on one
 * by one, every line became its own socket write. Batched up to this size.
 */
const FLUSH_BYTES = 64 * 1024

export interface ExtractedPart {
  stream: Readable
  /** Lowercase type/subtype, no parameters. */
  contentType: string
  filename: string | null
}

export function extractPart (input: Readable | Buffer, partId: string): Promise<ExtractedPart> {
  return new Promise((resolve, reject) => {
    const out = new PassThrough()
    let target: PartInfo | null = null
    let finished = false
    let pending: Buffer[] = []
    let pendingBytes = 0
    const take = (): Buffer | null => {
      if (pendingBytes === 0) return null
      const chunk = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes)
      pending = []
      pendingBytes = 0
      return chunk
    }
    const finish = (): void => {
      finished = true
      const rest = take()
      if (rest !== null && !out.destroyed) out.end(rest)
      else out.end()
    }

    const walker = walk(input, {
      onPart: info => {
        if (target || info.part.partId !== partId || info.part.type.startsWith('multipart/')) return
        target = info
        resolve({ stream: out, contentType: info.part.type, filename: info.part.filename })
      },
      onData: (info, chunk) => {
        if (info !== target || out.destroyed) return
        pending.push(chunk)
        pendingBytes += chunk.length
        if (pendingBytes < FLUSH_BYTES) return
        if (out.write(take()!)) return
        return new Promise<void>(resolve => {
          const go = (): void => { out.off('drain', go); out.off('close', go); resolve() }
          out.on('drain', go)
          out.on('close', go)
        })
      },
      onPartEnd: info => {
        if (info !== target) return
        finish()
        walker.stop()
      },
    })

    out.on('close', () => {
      if (!finished) walker.abort(new Error('reader went away'))
    })
    walker.done.then(() => {
      if (!target) reject(new GatewayError('not-found', 'No such attachment'))
      else if (!finished) finish()
    }, (err: Error) => {
      if (!target) reject(err)
      else if (!finished) out.destroy(err)
    })
  })
}
