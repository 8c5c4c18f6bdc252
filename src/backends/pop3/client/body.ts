/**
 * Where a multi-line body goes after dot-unstuffing: counted, capped, and —
 * when the server told the message's exact size (LIST) — checked against it.
 *
 * RFC 1939 §3 makes the server end a message that lacks a final line break
 * with an extra CRLF before the terminator. With `exactSize` the sink holds the
 * last two bytes back and drops such a CRLF when the bytes before it already
 * are the whole message, so the stream is the stored message byte for byte
 * (as IMAP's BODY[] is) and matches the announced size.
 */
import { GatewayError } from '../../../mail/errors.ts'

export interface BodyOptions {
  /** Cap on the unstuffed bytes; over it the reply is refused. */
  maxBytes?: number
  /** The size LIST reported: drop a server-added final CRLF beyond it. */
  exactSize?: number
  /** With exactSize: a body of any other size is an error (a Content-Length was promised). */
  strictSize?: boolean
  /** Keep only the first N bytes; the rest is read (up to maxBytes) and discarded. */
  truncateAt?: number
}

const CRLF = Buffer.from('\r\n')

export class BodySink {
  private received = 0
  private emitted = 0
  private tail: Buffer | null = null
  private readonly label: string
  private readonly opts: BodyOptions
  private readonly emit: (chunk: Buffer) => boolean

  /** `emit` returns false when the consumer wants the producer to pause. */
  constructor (label: string, opts: BodyOptions, emit: (chunk: Buffer) => boolean) {
    this.label = label
    this.opts = opts
    this.emit = emit
  }

  write (part: Buffer): boolean {
    this.received += part.length
    const max = this.opts.maxBytes
    if (max !== undefined && this.received > max) {
      throw new GatewayError('upstream-unavailable', `POP3 ${this.label} reply exceeds ${max} bytes`)
    }
    const keep = this.opts.truncateAt
    if (keep !== undefined) {
      const room = keep - this.emitted
      return room <= 0 ? true : this.out(room >= part.length ? part : part.subarray(0, room))
    }
    if (this.opts.exactSize === undefined) return this.out(part)
    // Hold the last two bytes back (they may be the CRLF the server added).
    const held = this.tail
    if (held === null || held.length === 0) {
      if (part.length <= 2) { this.tail = part; return true }
      this.tail = part.subarray(part.length - 2)
      return this.out(part.subarray(0, part.length - 2))
    }
    if (part.length >= 2) {
      const more = this.out(held)
      this.tail = part.subarray(part.length - 2)
      return this.out(part.subarray(0, part.length - 2)) && more
    }
    const joined = Buffer.concat([held, part])
    this.tail = joined.subarray(joined.length - 2)
    return joined.length > 2 ? this.out(joined.subarray(0, joined.length - 2)) : true
  }

  /** The terminator was seen: release or drop the held bytes, check the size. */
  end (): void {
    const size = this.opts.exactSize
    if (this.tail !== null && this.tail.length > 0) {
      const added = size !== undefined && this.emitted === size && this.tail.equals(CRLF)
      if (!added) this.out(this.tail)
      this.tail = null
    }
    if (size !== undefined && this.opts.strictSize === true && this.emitted !== size) {
      throw new GatewayError('upstream-unavailable', `POP3 server sent ${this.emitted} bytes for a message it listed as ${size}`)
    }
  }

  private out (chunk: Buffer): boolean {
    if (chunk.length === 0) return true
    this.emitted += chunk.length
    const size = this.opts.exactSize
    if (size !== undefined && this.opts.strictSize === true && this.emitted > size) {
      throw new GatewayError('upstream-unavailable', `POP3 server sent more than the ${size} bytes it listed`)
    }
    return this.emit(chunk)
  }
}
