/**
 * mailsplit, hardened for hostile input:
 * - message/rfc822 parts are leaves (never descended: JMAP counts an attached
 *   message as one attachment, and its decoded bytes are the embedded message);
 * - a multipart without a usable boundary is read as one text/plain leaf, and a
 *   multipart nested deeper than MAX_DEPTH as one application/octet-stream leaf;
 * - header blocks over MAX_HEAD_SIZE or more than MAX_PARTS parts make the
 *   splitter fail, which the walker treats as "structure ends here";
 * - a boundary followed by transport padding (trailing blanks) is recognised, and a
 *   line after stray CRs is a boundary or not whatever the chunking (checkBoundary);
 * - a header block ends at the first line that is neither a field nor a
 *   continuation (RFC 5322 §2.2, header-line.ts), not only at an empty line: that
 *   line is read again as the body's first (split-lines.ts replays it);
 * - a throw inside mailsplit (its last line, at _flush) fails the stream, like a
 *   splitter error, instead of escaping it as an uncaught exception;
 * - lines are split without a trip round the event loop per line (split-lines.ts),
 *   and header blocks unfolded in linear time (mailsplit-headers.ts);
 * - LineGuard sits in front: it counts the raw octets, hands mailsplit whole lines
 *   (an unfinished one is kept in pieces and joined once) and breaks any line
 *   longer than MAX_LINE (mailsplit re-concatenates an unfinished line on every
 *   chunk, which is quadratic on a multi-megabyte line).
 */
import { Transform, type TransformCallback } from 'node:stream'
import mailsplit, { type LineCallback, type MimeNode } from 'mailsplit'
import { isBlankLine, isHeaderLine } from './header-line.ts'
import './mailsplit-headers.ts'
import { HEAD, transformLines, type LineSplitter } from './split-lines.ts'

export const MAX_DEPTH = 50
export const MAX_PARTS = 1000
export const MAX_HEAD_SIZE = 2 * 1024 * 1024
export const MAX_LINE = 1024 * 1024
/** As much of the header block as the field parser reads (headers.ts MAX_HEADER_BYTES). */
const MAX_HEADER_CAPTURE = 1024 * 1024

function fix (node: MimeNode): void {
  if (!node.multipart) {
    node._boundary = false // a boundary parameter on a leaf means nothing (mailsplit would split on it)
    return
  }
  if (!node._boundary) node.demoted = 'no-boundary'
  else if ((node.depth ?? 0) >= MAX_DEPTH) node.demoted = 'depth'
  else return
  node.multipart = false
  node._boundary = false
}

export class SafeSplitter extends mailsplit.Splitter {
  constructor () {
    super({ ignoreEmbedded: true, maxHeadSize: MAX_HEAD_SIZE, maxChildNodes: MAX_PARTS })
  }

  override _transform (chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    transformLines(this as unknown as LineSplitter, chunk, callback)
  }

  /**
   * True when `line` (a whole line, no carried piece before it) ends the header
   * block being read without being an empty line: the body starts with it.
   */
  private startsBody (line: Buffer | false): line is Buffer {
    const self = this as unknown as LineSplitter
    if (self.state !== HEAD || !line || self.line || isBlankLine(line)) return false
    return !isHeaderLine(line, self.node._headerlen === 0) && !this.checkBoundary(line)
  }

  /**
   * A line that starts a body ends the header block as an empty line would (an
   * empty line of its own line-break style is read instead, so mailsplit emits
   * the part); split-lines.ts then hands the line over again, as body.
   */
  override processLine (line: Buffer | false, final: boolean, next: LineCallback): void {
    if (!final && this.startsBody(line)) {
      (this as unknown as LineSplitter).replayLine = true
      line = line[line.length - 2] === 0x0d ? CRLF : LF
    }
    super.processLine(line, final, next)
  }

  /** mailsplit's last line (a header block can end here): a throw fails the parse, never the process. */
  override _flush (callback: TransformCallback): void {
    try {
      const self = this as unknown as LineSplitter
      const last = self.line
      self.line = false
      if (!self.hasFailed && this.startsBody(last)) {
        // the last line, with no line break, starts the body: end the header block first
        super.processLine(LF, false, (err, data) => { if (!err && data) this.push(data) })
      }
      self.line = last
      super._flush(callback)
    } catch (err) {
      (this as unknown as LineSplitter).hasFailed = true
      callback(err instanceof Error ? err : new Error(String(err)))
    }
  }

  /**
   * A boundary line starts with "--", after at most the previous line's break,
   * which mailsplit carries onto the next line at a chunk's end. mailsplit skips
   * two leading octets whenever the first is a CR (`||` where `&&` was meant), so
   * a line "\r\r--b" was a boundary when it arrived mid-chunk and not at a chunk's
   * start (after the carried CRLF): the same message split differently over IMAP
   * and POP3. A CR that does not start a carried CRLF is refused here.
   */
  override checkBoundary (line: Buffer): false | 1 | 2 | 3 | 4 {
    if (line[0] === 0x0d && line[1] !== 0x0a) return false
    return super.checkBoundary(line)
  }

  /** RFC 2046 §5.1.1 allows transport padding (spaces, tabs) after a boundary; mailsplit does not. */
  override compareBoundary (line: Buffer, startpos: number, boundary: Buffer): false | 1 | 2 {
    let end = line.length
    while (end > 0 && (line[end - 1] === 0x0a || line[end - 1] === 0x0d)) end--
    let trimmed = end
    while (trimmed > 0 && (line[trimmed - 1] === 0x20 || line[trimmed - 1] === 0x09)) trimmed--
    const clean = trimmed === end ? line : Buffer.concat([line.subarray(0, trimmed), line.subarray(end)])
    return super.compareBoundary(clean, startpos, boundary)
  }

  override newNode (parent?: MimeNode | false): void {
    super.newNode(parent)
    const node = this.node
    node.depth = parent ? (parent.depth ?? 0) + 1 : 0
    const parse = node.parseHeaders.bind(node)
    node.parseHeaders = () => {
      parse()
      fix(node)
    }
  }
}

/** Counts raw octets and splits over-long lines (see above). */
export class LineGuard extends Transform {
  bytes = 0
  /** An unfinished line, in the pieces it came in (joined once it ends or reaches MAX_LINE). */
  private carry: Buffer[] = []
  private carryBytes = 0
  /**
   * The first octets of the message, kept until the root header block has been
   * parsed (then released): if mailsplit gives up on that block (over
   * MAX_HEAD_SIZE), its fields are still read from here, as a summary would.
   */
  private head: Buffer[] | null = []
  private headBytes = 0

  /** The captured start of the message (empty once released). */
  get prefix (): Buffer {
    return this.head === null ? Buffer.alloc(0) : Buffer.concat(this.head, this.headBytes)
  }

  releasePrefix (): void {
    this.head = null
  }

  override _transform (chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length
    if (this.head !== null && this.headBytes < MAX_HEADER_CAPTURE) {
      const part = chunk.subarray(0, MAX_HEADER_CAPTURE - this.headBytes)
      this.head.push(part)
      this.headBytes += part.length
    }
    // One push per line made mailsplit emit one object per line (20× slower on
    // big attachments). Push whole runs of complete lines instead, carrying an
    // unfinished line over: mailsplit sees the same line-aligned input.
    if (this.carryBytes > 0 && this.carryBytes + chunk.length <= MAX_LINE && chunk.indexOf(0x0a) === -1) {
      // still inside one unfinished line: keep the piece. Joining and rescanning the
      // carry on every chunk cost (line length)² ÷ chunk size: seconds for a
      // 1 MiB line that a server sends in tiny segments.
      this.carry.push(chunk)
      this.carryBytes += chunk.length
      done()
      return
    }
    const carried = this.carryBytes
    const data = carried === 0 ? chunk : Buffer.concat([...this.carry, chunk], carried + chunk.length)
    this.carry = []
    this.carryBytes = 0
    let from = 0
    let start = carried // the carry holds no line break: it was scanned when it came
    let lineStart = 0
    while (start < data.length) {
      const nl = data.indexOf(0x0a, start)
      const lineEnd = nl === -1 ? data.length : nl
      if (lineEnd - lineStart > MAX_LINE) {
        // an over-long line, finished or not: break it at MAX_LINE
        if (lineStart > from) this.push(data.subarray(from, lineStart))
        this.push(data.subarray(lineStart, lineStart + MAX_LINE))
        this.push(LF)
        lineStart += MAX_LINE
        from = lineStart
        start = lineStart
        continue
      }
      if (nl === -1) break
      start = nl + 1
      lineStart = start
    }
    if (lineStart > from) this.push(data.subarray(from, lineStart))
    if (lineStart < data.length) {
      this.carry = [Buffer.from(data.subarray(lineStart))]
      this.carryBytes = data.length - lineStart
    }
    done()
  }

  override _flush (done: TransformCallback): void {
    if (this.carryBytes > 0) this.push(Buffer.concat(this.carry, this.carryBytes))
    this.carry = []
    this.carryBytes = 0
    done()
  }
}
const LF = Buffer.from('\n')
const CRLF = Buffer.from('\r\n')
