/**
 * parseMessage for the backends: the normaliser's, run in the process's parse
 * pool once one is configured (PARSE_WORKERS), inline otherwise and for a
 * message held whole under PARSE_WORKER_MIN_BYTES (handing it over would cost
 * more than parsing it). Same input, same ParsedMessage, either way.
 */
import type { Readable } from 'node:stream'
import type { ParsedMessage } from '../backend.ts'
import { parseMessage as parseInline, type ParseOptions } from '../normalise/index.ts'
import { ParsePool, type ParsePoolOptions } from './pool.ts'

export { ParsePool, WINDOW_BYTES } from './pool.ts'
export type { ParsePoolOptions, ParsePoolStats } from './pool.ts'

let pool: ParsePool | null = null
let minBytes = 0
let configured = ''

export interface ParsingOptions extends Omit<ParsePoolOptions, 'size'> {
  /** Worker threads; 0: parse on the main thread. */
  workers: number
  /** Messages held whole and shorter than this are parsed inline. */
  minBytes: number
}

/**
 * Sets up the process's parsing. Changed settings start a new pool; the old one
 * finishes the parses it has (another gateway in the same process may be running
 * them) and then closes.
 */
export function configureParsing (opts: ParsingOptions): void {
  const key = JSON.stringify({ ...opts, workerUrl: opts.workerUrl?.href })
  minBytes = opts.minBytes
  if (key === configured) return
  configured = key
  const old = pool
  pool = opts.workers > 0 ? new ParsePool({ ...opts, size: opts.workers }) : null
  old?.retire()
}

/** The process's pool (null: parsing inline). */
export function parsePool (): ParsePool | null {
  return pool
}

export async function parseMessage (input: Readable | Buffer, opts: ParseOptions = {}): Promise<ParsedMessage> {
  if (pool === null || (Buffer.isBuffer(input) && input.length < minBytes)) return await parseInline(input, opts)
  return await pool.parse(input, opts)
}
