/**
 * BODY[] of one message as a byte stream, read in partial FETCHes
 * (UID FETCH n BODY.PEEK[]<offset.length>): the octets exactly as the server
 * stores them, never decoded, never all in memory, with backpressure (the
 * next chunk is asked for only when the consumer wants more).
 *
 * The connection is busy only while one chunk is in flight and each chunk is
 * a complete command, so a consumer that destroys the stream mid-way leaves
 * the connection clean: `onDone(true)` once the in-flight chunk has landed
 * (the lease goes back to the pool); `onDone(false)` when the connection is
 * in doubt (error or timeout), and the lease is closed instead.
 */
import { Readable } from 'node:stream'
import { GatewayError } from '../../mail/errors.ts'
import { isConnectionFatal, toGatewayError } from './errors.ts'
import type { ImapSession } from './session.ts'

export const RAW_CHUNK = 256 * 1024

/** Fetch `length` octets of BODY[] from `offset`; null when the message is gone. */
export async function fetchChunk (session: ImapSession, uid: number, offset: number, length: number): Promise<{ data: Buffer, size: number | null } | null> {
  const msg = await session.cmd(session.client.fetchOne(String(uid), {
    uid: true, size: offset === 0, source: { start: offset, maxLength: length },
  }, { uid: true }))
  if (msg === false) return null
  return { data: msg.source ?? Buffer.alloc(0), size: msg.size ?? null }
}

export class RawMessageStream extends Readable {
  readonly #session: ImapSession
  readonly #uid: number
  readonly #limit: number
  readonly #size: number | null
  readonly #onDone: (clean: boolean) => void
  #first: Buffer | null
  #offset: number
  #complete: boolean
  #inflight: Promise<void> | null = null
  #finished = false

  /** `first` is the chunk at offset 0 (fetched by the caller to learn the size and existence). */
  constructor (session: ImapSession, uid: number, first: Buffer, size: number | null, onDone: (clean: boolean) => void) {
    super({ highWaterMark: RAW_CHUNK })
    this.#session = session
    this.#uid = uid
    this.#first = first
    this.#offset = first.length
    this.#complete = first.length !== RAW_CHUNK
    // a server that counts octets differently still cannot make us loop forever
    this.#limit = (size ?? 0) * 2 + RAW_CHUNK * 2
    this.#size = size
    this.#onDone = onDone
    if (this.#complete) this.#finish(true)
  }

  #finish (clean: boolean): void {
    if (this.#finished) return
    this.#finished = true
    this.#onDone(clean)
  }

  override _read (): void {
    if (this.#first !== null) {
      const first = this.#first
      this.#first = null
      if (first.length > 0) this.push(first)
      if (this.#complete) this.#end()
      return
    }
    if (this.#complete) {
      this.push(null)
      return
    }
    if (this.#inflight !== null) return
    this.#inflight = this.#next().finally(() => { this.#inflight = null })
  }

  async #next (): Promise<void> {
    try {
      if (this.#offset > this.#limit) throw new GatewayError('upstream-unavailable', 'the mail server sent more than the message size')
      const chunk = await fetchChunk(this.#session, this.#uid, this.#offset, RAW_CHUNK)
      if (chunk === null) throw new GatewayError('upstream-unavailable', 'the message disappeared while it was being read')
      if (chunk.data.length > RAW_CHUNK) throw new GatewayError('upstream-unavailable', 'the mail server ignored a partial fetch')
      this.#offset += chunk.data.length
      this.#complete = chunk.data.length < RAW_CHUNK
      if (this.#complete) this.#finish(true)
      if (this.destroyed) return
      if (chunk.data.length > 0) this.push(chunk.data)
      if (this.#complete) this.#end()
    } catch (err) {
      this.#finish(!isConnectionFatal(err) && this.#session.client.usable)
      if (!this.destroyed) this.destroy(toGatewayError(err))
    }
  }

  /**
   * End of BODY[]: it must be exactly RFC822.SIZE octets (RFC 3501 §6.4.5), which
   * the caller may have announced as Content-Length; anything else aborts the
   * stream rather than end a response short or long.
   */
  #end (): void {
    if (this.#size !== null && this.#offset !== this.#size) {
      this.destroy(new GatewayError('upstream-unavailable', 'the mail server sent a message of another size than it announced'))
      return
    }
    this.push(null)
  }

  override _destroy (err: Error | null, callback: (error?: Error | null) => void): void {
    const inflight = this.#inflight
    if (inflight === null) this.#finish(this.#session.client.usable)
    else inflight.then(() => this.#finish(this.#session.client.usable), () => this.#finish(false))
    callback(err)
  }
}
