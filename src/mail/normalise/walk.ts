/**
 * Streams a raw message through LineGuard → SafeSplitter and reports the MIME
 * tree as it goes: each part once its headers are read, each leaf's decoded
 * bytes, each leaf's end. Handlers may return a promise (backpressure: the
 * walker waits before reading on). A splitter failure (hostile structure) ends
 * the structure there; the rest of the input is still read and counted. Only an
 * error of the input stream itself rejects.
 */
import { Readable, Writable } from 'node:stream'
import type { MimeNode, SplitterChunk } from 'mailsplit'
import { createDecoder, type Decoder } from './decoders.ts'
import { describe, type PartInfo } from './part-info.ts'
import { LineGuard, SafeSplitter } from './splitter.ts'

export interface WalkHandlers {
  onPart?: (info: PartInfo) => void
  onData?: (info: PartInfo, chunk: Buffer) => void | Promise<void>
  onPartEnd?: (info: PartInfo) => void | Promise<void>
}

export interface Walker {
  /** Resolves when the whole input has been read; `prefix` is the message's start when no root part could be parsed. */
  done: Promise<{ root: PartInfo | null, size: number, prefix: Buffer }>
  /** Stop parsing; the rest of the input is drained (and counted) without parsing. */
  stop: () => void
  /** Stop and destroy the input (the reader went away). */
  abort: (err?: Error) => void
}

function deferred<T> (): { promise: Promise<T>, resolve: (v: T) => void, reject: (e: Error) => void } {
  let resolve!: (v: T) => void
  let reject!: (e: Error) => void
  const promise = new Promise<T>((_resolve, _reject) => { resolve = _resolve; reject = _reject })
  return { promise, resolve, reject }
}

export function toReadable (input: Readable | Buffer): Readable {
  return Buffer.isBuffer(input) ? Readable.from([input]) : input
}

export function walk (source: Readable | Buffer, h: WalkHandlers): Walker {
  const input = toReadable(source)
  const guard = new LineGuard()
  const splitter = new SafeSplitter()
  const infos = new Map<MimeNode, PartInfo>()
  let root: PartInfo | null = null
  let leaf: { info: PartInfo, decoder: Decoder } | null = null
  let parsing = true
  let inputEnded = false
  let sinkDone = false
  let settled = false
  const { promise: done, resolve, reject } = deferred<{ root: PartInfo | null, size: number, prefix: Buffer }>()

  const emit = async (info: PartInfo, chunk: Buffer): Promise<void> => {
    if (chunk.length === 0) return
    info.part.size += chunk.length
    await h.onData?.(info, chunk)
  }
  const closeLeaf = async (): Promise<void> => {
    const cur = leaf
    if (!cur) return
    leaf = null
    await emit(cur.info, cur.decoder.end())
    await h.onPartEnd?.(cur.info)
  }
  const maybeResolve = (): void => {
    if (settled || !inputEnded || !sinkDone) return
    settled = true
    resolve({ root, size: guard.bytes, prefix: root === null ? guard.prefix : Buffer.alloc(0) })
  }
  const fail = (err: Error): void => {
    if (settled) return
    settled = true
    parsing = false
    splitter.destroy()
    guard.destroy()
    reject(err)
  }
  const stopParsing = (): void => {
    if (!parsing) return
    parsing = false
    guard.unpipe(splitter)
    splitter.destroy()
    guard.resume()
    closeLeaf().catch(() => {}).finally(() => { sinkDone = true; maybeResolve() })
  }

  const sink = new Writable({
    objectMode: true,
    write (obj: MimeNode | SplitterChunk, _enc, cb) {
      if (!parsing) return cb()
      handle(obj).then(() => cb(), (err: Error) => cb(err))
    },
    final (cb) {
      closeLeaf().then(() => cb(), (err: Error) => cb(err))
    },
  })
  const handle = async (obj: MimeNode | SplitterChunk): Promise<void> => {
    if (obj.type === 'node') {
      await closeLeaf()
      const parentNode = obj.parentNode || null
      const parent = parentNode ? infos.get(parentNode) ?? null : null
      if (parentNode && !parent) return // orphan: cannot happen with a well-behaved splitter
      const info = describe(obj, parent)
      infos.set(obj, info)
      if (!root) {
        root = info
        guard.releasePrefix()
      }
      h.onPart?.(info)
      if (!obj.multipart) leaf = { info, decoder: createDecoder(info.encoding) }
    } else if (obj.type === 'body' && leaf && infos.get(obj.node) === leaf.info) {
      await emit(leaf.info, leaf.decoder.write(obj.value))
    }
  }

  sink.on('finish', () => { sinkDone = true; maybeResolve() })
  sink.on('error', () => stopParsing())
  splitter.on('error', () => stopParsing())
  guard.on('end', () => { inputEnded = true; maybeResolve() })
  input.on('error', fail)
  guard.on('error', fail)
  input.pipe(guard).pipe(splitter).pipe(sink)

  return {
    done,
    stop: stopParsing,
    abort: (err?: Error) => {
      stopParsing()
      input.destroy()
      fail(err ?? new Error('aborted'))
    },
  }
}
