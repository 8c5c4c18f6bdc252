/**
 * mailsplit's header-block parser (Headers#_parseHeaders), in linear time.
 *
 * mailsplit 5.4.6 unfolds a header block by walking its lines backwards and
 * splicing each continuation line out of the array: quadratic in the number of
 * folded lines. A header block within MAX_HEAD_SIZE (2 MiB) can hold half a
 * million of them (" x" lines), which held the event loop for seconds per
 * 20 000 lines: one hostile message could stall every request of the process.
 * This builds the same `lines` (and `mbox` / `http` for a first line starting
 * "From " / "POST ") in one forward pass.
 *
 * Adapted from mailsplit 5.4.6, lib/headers.js, by Andris Reinman, MIT licence
 * (the package is "MIT OR EUPL-1.1+"). Installed once, on the Headers class of
 * the `mailsplit` package only this normaliser uses (imapflow and mailparser
 * bring their own copies). test/normalise/mailsplit-headers.test.ts compares it
 * with the original on the corpus.
 */
import mailsplit from 'mailsplit'
import { trimEndWhere, withoutComment } from './linear-text.ts'

interface HeadersInternals {
  headers: Buffer | false
  lines: Array<{ key: string, line: string }>
  parsed: boolean
  mbox?: string
  http?: string
  _normalizeHeader: (key: string) => string
}

const CONTINUATION = new Set([' ', '\t'])

export function parseHeaderLines (this: HeadersInternals): void {
  if (!this.headers) {
    this.lines = []
    this.parsed = true
    return
  }
  const physical = trimEndWhere(this.headers.toString('binary'), c => c === '\r' || c === '\n').split(/\r?\n/)
  // logical lines: each starts at line 0 or at a line not starting with a blank
  const logical: string[] = []
  let run: string[] = []
  physical.forEach((line, i) => {
    if (i > 0 && CONTINUATION.has(line.charAt(0))) {
      run.push(line)
      return
    }
    if (run.length > 0) logical.push(run.join('\r\n'))
    run = [line]
  })
  if (run.length > 0) logical.push(run.join('\r\n'))

  const lines: Array<{ key: string, line: string }> = []
  logical.forEach((line, i) => {
    if (i === 0 && /^From /i.test(line)) {
      this.mbox = line // mbox file
    } else if (i === 0 && /^POST /i.test(line)) {
      this.http = line // HTTP POST request
    } else {
      const key = this._normalizeHeader(line.substr(0, line.indexOf(':')))
      lines.push({ key, line: key === 'content-transfer-encoding' ? encodingWithoutComment(line) : line })
    }
  })
  this.lines = lines
  this.parsed = true
}

/**
 * mailsplit strips a comment from this value with /\(.*\)/g, which is quadratic
 * on a run of "(" without ")". The comment is removed here in one pass, and any
 * "(" left over (which left the value unreadable before, as it does now) becomes "_".
 */
function encodingWithoutComment (line: string): string {
  return line.includes('(') ? withoutComment(line).replaceAll('(', '_') : line
}

/** The class the splitter's nodes use (mailsplit exposes it as `Headers`). */
const HeadersClass = (mailsplit as unknown as { Headers: { prototype: { _parseHeaders: () => void } } }).Headers

/** The original, kept for the differential test. */
export const originalParseHeaders = HeadersClass.prototype._parseHeaders

HeadersClass.prototype._parseHeaders = parseHeaderLines as unknown as () => void
