/**
 * mailsplit's line loop without a macrotask per line.
 *
 * mailsplit 5.4.6 (MessageSplitter#_transform) hands every line to
 * processLine() and then continues with `setImmediate(iterateData)`: one trip
 * round the event loop per line of every message, which was about a quarter of
 * a cold read's CPU and most of a small parse's time. processLine() answers
 * synchronously, so this is the same loop, continuing inline and yielding to
 * the event loop only every YIELD_LINES lines or YIELD_BYTES octets (counted
 * across chunks), which keeps a large message from holding the loop. Three
 * departures: runs of body lines that cannot be a boundary are crossed in one
 * step (plain-runs.ts); a group that is empty at a flush is not pushed (a body of
 * one empty line no longer depends on where a chunk ends); and a throw from
 * processLine fails the stream instead of escaping it.
 *
 * Adapted from mailsplit 5.4.6, lib/message-splitter.js, by Andris Reinman,
 * MIT licence (the package is "MIT OR EUPL-1.1+"). The pinned version in
 * package.json is the one this mirrors; test/normalise covers both the corpus
 * goldens and chunking invariance.
 */
import type { MimeNode, SplitterChunk } from 'mailsplit'
import { plainRunEnd, plainRuns } from './plain-runs.ts'

const YIELD_LINES = 1000
const YIELD_BYTES = 256 * 1024
/** mailsplit's states while it reads a part's header block and its body (lib/message-splitter.js). */
export const HEAD = 0x01
const BODY = 0x02

type Emitted = MimeNode | SplitterChunk | { type: 'none' }
type LineCallback = (err?: Error | null, data?: Emitted | false, flush?: boolean) => void

/** The mailsplit internals the loop drives (see mailsplit.d.ts for the public side). */
export interface LineSplitter {
  line: Buffer | false
  /** mailsplit's parser state and current node (HEAD or BODY of `node`). */
  state: number
  node: MimeNode
  hasFailed: boolean
  /** Set by processLine when the line just read ended a header block and is to be read again as body. */
  replayLine?: boolean
  /** Lines and octets handled since the loop last yielded (kept across chunks: small chunks add up). */
  sinceYield?: { lines: number, bytes: number }
  processLine: (line: Buffer | false, final: boolean, next: LineCallback) => void
  push: (chunk: unknown) => boolean
}

type Group = { type: 'none' } | (SplitterChunk & { value?: Buffer })

export function transformLines (self: LineSplitter, chunk: Buffer, callback: (err?: Error) => void): void {
  let pos = 0
  let i = 0
  let group: Group = { type: 'none' }
  let groupstart = self.line ? -self.line.length : 0
  let groupend = 0

  const checkTrailingLinebreak = (data: SplitterChunk): void => {
    if (data.type === 'body' && data.node.parentNode && data.value && data.value.length) {
      if (data.value[data.value.length - 1] === 0x0a) {
        groupstart--
        groupend--
        pos--
        if (data.value.length > 1 && data.value[data.value.length - 2] === 0x0d) {
          groupstart--
          groupend--
          pos--
          if (groupstart < 0 && !self.line) {
            // store only <CR> as <LF> should be on the positive side
            self.line = Buffer.from([0x0d])
          }
          data.value = data.value.subarray(0, data.value.length - 2)
        } else {
          data.value = data.value.subarray(0, data.value.length - 1)
        }
      } else if (data.value[data.value.length - 1] === 0x0d) {
        groupstart--
        groupend--
        pos--
        data.value = data.value.subarray(0, data.value.length - 1)
      }
    }
  }

  /** mailsplit's per-line callback, unchanged but for its ending (the caller continues) and the empty body below. */
  const onLine = (data: Emitted | false | undefined, flush: boolean | undefined): void => {
    if (!data) return
    if (flush) {
      if (group.type !== 'none') {
        if (group.type === 'body' && groupend >= groupstart && group.node.parentNode) {
          // do not include the last line ending for body
          if (chunk[groupend - 1] === 0x0a) {
            groupend--
            if (groupend >= groupstart && chunk[groupend - 1] === 0x0d) groupend--
          }
        }
        // mailsplit pushed the group here even when that line ending was all of it,
        // with the stale value of its first line: a body of one empty line was "\r\n"
        // mid-chunk but empty at a chunk's end (the line break carried onto the
        // boundary). Empty, it is not pushed, and the boundary takes the line break.
        if (groupstart !== groupend) {
          group.value = chunk.subarray(groupstart, groupend)
          self.push(group)
        }
        if (groupend < i) (data as SplitterChunk).value = chunk.subarray(groupend, i)
        group = { type: 'none' }
        groupstart = groupend = i
      }
      self.push(data)
      groupend = i
      return
    }
    if (data.type === group.type) {
      // shift slice end position forward
      groupend = i
      return
    }
    if (group.type === 'body' && groupend >= groupstart && group.node.parentNode) {
      // do not include the last line ending for body
      if (chunk[groupend - 1] === 0x0a) {
        groupend--
        if (groupend >= groupstart && chunk[groupend - 1] === 0x0d) groupend--
      }
    }
    if (group.type !== 'none') {
      // we have a previous data/body chunk to output
      if (groupstart !== groupend) {
        group.value = chunk.subarray(groupstart, groupend)
        if (group.value.length) {
          self.push(group)
          group = { type: 'none' }
        }
      }
    }
    if (data.type === 'node') {
      self.push(data)
      groupstart = i
      groupend = i
    } else if (groupstart < 0) {
      groupstart = i
      groupend = i
      checkTrailingLinebreak(data as SplitterChunk)
      if ((data as SplitterChunk).value?.length) self.push(data)
    } else {
      // start new body/data chunk
      group = data as Group
      groupstart = groupend
      groupend = i
    }
  }

  const since = (self.sinceYield ??= { lines: 0, bytes: 0 })
  const spent = (): boolean => since.lines >= YIELD_LINES || since.bytes >= YIELD_BYTES
  const yieldThen = (fn: () => void): void => {
    since.lines = 0
    since.bytes = 0
    setImmediate(fn)
  }

  const iterateData = (): void => {
    const len = chunk.length
    while (i < len) {
      if (plainRuns.skip && self.state === BODY && !self.line && pos === i && group.type === (self.node.multipart ? 'data' : 'body')) {
        // Inside a body, with a group of this body's type open: processLine would
        // answer each plain line with data of that type, and onLine would only move
        // groupend. Do that for the whole run at once.
        const end = plainRunEnd(chunk, i, Math.min(len, i + Math.max(1, YIELD_BYTES - since.bytes)))
        if (end > i) {
          since.bytes += end - i
          i = pos = groupend = end
          if (spent()) {
            yieldThen(iterateData)
            return
          }
          continue
        }
      }
      // the next <LF> (mailsplit steps byte by byte; indexOf is the same scan, native)
      const lf = chunk.indexOf(0x0a, i)
      if (lf === -1) {
        i = len
        break
      }
      i = lf
      // line end
      const start = Math.max(pos, 0)
      pos = ++i
      let answered = false
      let failure: Error | null = null
      try {
        self.processLine(chunk.subarray(start, i), false, (err, data, flush) => {
          answered = true
          if (err) failure = err
          else onLine(data, flush)
        })
      } catch (err) {
        // thrown inside a stream's write it would be an uncaught exception: the parse fails instead
        answered = true
        failure = err instanceof Error ? err : new Error(String(err))
      }
      if (!answered) {
        // never with the pinned mailsplit; failing the stream beats crashing from a setImmediate
        self.hasFailed = true
        callback(new Error('mailsplit processLine answered asynchronously: split-lines.ts no longer matches the installed mailsplit'))
        return
      }
      if (failure !== null) {
        self.hasFailed = true
        const err: Error = failure
        setImmediate(() => callback(err))
        return
      }
      if (self.replayLine) {
        // the line ended a header block (the part was emitted): read it again, as body
        self.replayLine = false
        i = pos = groupstart = groupend = start
        continue
      }
      since.lines++
      since.bytes += i - start
      if (spent()) {
        yieldThen(iterateData)
        return
      }
    }

    // skip last linebreak for body
    if (pos >= groupstart + 1 && group.type === 'body' && group.node.parentNode) {
      // do not include the last line ending for body
      if (chunk[pos - 1] === 0x0a) {
        pos--
        if (pos >= groupstart && chunk[pos - 1] === 0x0d) pos--
      }
    }
    if (group.type !== 'none' && pos > groupstart) {
      // we have a leftover data/body chunk to push out
      group.value = chunk.subarray(groupstart, pos)
      if (group.value.length) {
        self.push(group)
        group = { type: 'none' }
      }
    }
    if (pos < chunk.length) {
      self.line = self.line ? Buffer.concat([self.line, chunk.subarray(pos)]) : chunk.subarray(pos)
    }
    // chunks arriving back to back (an in-memory source) would otherwise never let the loop turn
    if (spent()) yieldThen(() => callback())
    else callback()
  }

  iterateData()
}
