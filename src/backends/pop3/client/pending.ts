/**
 * A command waiting for its reply, and what happens to a multi-line body:
 * dot-unstuffed by the DotDecoder, counted and checked by the BodySink, then
 * either collected (buffered replies) or pushed into a Readable whose
 * backpressure pauses the socket.
 */
import { Readable } from 'node:stream'
import type { GatewayError } from '../../../mail/errors.ts'
import { BodySink, type BodyOptions } from './body.ts'
import { DotDecoder } from './multiline.ts'
import type { StatusLine } from './status.ts'

export interface Reply {
  status: StatusLine
  /** Buffered multi-line body (dot-unstuffed), when one was asked for. */
  body: Buffer | null
  /** Streamed multi-line body, when one was asked for. */
  stream: Readable | null
}

export interface CommandOptions extends BodyOptions {
  /** A multi-line body follows +OK. */
  multiline?: boolean
  /** Hand the body out as a stream instead of buffering it. */
  stream?: boolean
  /** Never pipeline this command (login steps, STLS, QUIT). */
  barrier?: boolean
  /** Label for logs and errors instead of the line (credentials!). */
  label?: string
  /** Streamed body destroyed early: true = read and discard the rest, false = drop the connection. */
  drainOnAbort?: () => boolean
}

export interface Pending extends CommandOptions {
  line: string | null
  label: string
  resolve: (reply: Reply) => void
  reject: (err: Error) => void
  decoder?: DotDecoder
  sink?: BodySink
  chunks?: Buffer[]
  out?: Readable
  discard?: boolean
}

export interface Pop3Logger {
  debug: (obj: object, msg?: string) => void
}

export interface BodyHooks {
  /** The consumer is full: stop reading the socket. */
  pause: () => void
  /** The consumer wants more. */
  read: () => void
  /** The consumer destroyed the stream (maybe before the end). */
  destroyed: () => void
}

/** +OK arrived for a multi-line command: set up decoding; a streamed reply resolves now. */
export function openBody (head: Pending, status: StatusLine, hooks: BodyHooks): void {
  const sink = new BodySink(head.label, head, (part) => {
    if (head.out !== undefined) return head.discard === true || head.out.push(part)
    head.chunks?.push(part)
    return true
  })
  head.sink = sink
  head.decoder = new DotDecoder((part) => { if (!sink.write(part)) hooks.pause() })
  if (head.stream === true) {
    head.out = new Readable({
      read: () => hooks.read(),
      destroy: (err, cb) => { hooks.destroyed(); cb(err) },
    })
    // The stream can fail in this same read, before the caller holds it to listen:
    // an 'error' with no listener would be an uncaught exception. Consumers still get it.
    head.out.on('error', () => {})
    head.resolve({ status, body: null, stream: head.out })
  } else {
    head.chunks = []
  }
}

/** The terminator arrived: end the stream or resolve with the collected body. Throws on a size mismatch. */
export function closeBody (head: Pending): void {
  head.sink?.end()
  if (head.out !== undefined) {
    if (head.discard !== true) head.out.push(null)
  } else {
    head.resolve({ status: { kind: 'ok', code: null, text: '' }, body: Buffer.concat(head.chunks ?? []), stream: null })
  }
}

/** The connection died: the command fails, or its stream errors. */
export function failPending (p: Pending, err: GatewayError): void {
  if (p.out !== undefined) {
    if (p.discard !== true && !p.out.destroyed) p.out.destroy(err)
  } else {
    p.reject(err)
  }
}
