/**
 * The messages between the parse pool (main thread) and a parse worker. One
 * task at a time per worker; a streamed task's chunks flow in a window the
 * worker acknowledges as the parser takes them.
 */
import type { ParsedMessage } from '../backend.ts'
import type { ParseOptions } from '../normalise/index.ts'

export type ToWorker =
  /** A task: `whole` is the entire message; without it, chunks follow until 'end'. */
  | { type: 'start', id: number, opts: ParseOptions, whole?: Uint8Array }
  | { type: 'chunk', id: number, data: Uint8Array }
  | { type: 'end', id: number }
  /** The input failed: the worker gives the parse up and answers 'failed'. */
  | { type: 'abort', id: number }

export type FromWorker =
  | { type: 'ack', id: number, bytes: number }
  | { type: 'done', id: number, result: ParsedMessage }
  | { type: 'failed', id: number, message: string }

/** A chunk posted to a worker as its own ArrayBuffer (transferred, never a view into a shared pool). */
export function ownCopy (chunk: Uint8Array): Uint8Array {
  return new Uint8Array(chunk)
}
