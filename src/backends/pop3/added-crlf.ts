/**
 * RFC 1939 §3: a multi-line response ends in CRLF "." CRLF, so a server must
 * add a CRLF to a message that lacks a final line break. RETR then returns two
 * octets the message does not have; IMAP BODY[] does not. When the server's
 * LIST size says the message is exactly those two octets shorter, this drops
 * them, so POP3 raw bytes, sizes and parsed bodies equal IMAP's for the same
 * message (contract §3 allows dropping them). With any other size the bytes
 * pass through untouched: a LIST size is not always exact, and nothing is
 * dropped on a guess.
 */
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream'

class TrimAddedCrlf extends Transform {
  #seen = 0
  #held: Buffer = Buffer.alloc(0)

  constructor (private readonly listSize: number) { super() }

  override _transform (chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const all = this.#held.length === 0 ? chunk : Buffer.concat([this.#held, chunk])
    this.#seen += chunk.length
    // hold back the last two octets until the end is known
    const keep = Math.min(2, all.length)
    this.#held = Buffer.from(all.subarray(all.length - keep))
    if (all.length > keep) this.push(all.subarray(0, all.length - keep))
    done()
  }

  override _flush (done: TransformCallback): void {
    const added = this.#seen === this.listSize + 2 && this.#held.length === 2 && this.#held[0] === 0x0d && this.#held[1] === 0x0a
    if (!added && this.#held.length > 0) this.push(this.#held)
    done()
  }
}

/** The RETR stream without a server-added final CRLF; destroying the result destroys the source. */
export function withoutAddedCrlf (source: Readable, listSize: number | undefined): Readable {
  if (listSize === undefined) return source
  const trim = new TrimAddedCrlf(listSize)
  pipeline(source, trim, () => {})
  return trim
}
