/**
 * Where a header block ends (RFC 5322 §2.2): at an empty line, or at the first
 * line that is neither a header field nor a continuation of one. That line is
 * the first line of the body, as Python's email package, Thunderbird and Gmail
 * read it. Without this, a part whose body follows its header fields with no
 * empty line between (or a message whose first body line follows its header
 * directly) had its body read as header: its text or HTML came back empty.
 *
 * A field is a name of printable US-ASCII other than ':' followed by ':'
 * (RFC 5322 §3.6.8), with the obsolete syntax's blanks before the colon
 * (§4.5); a continuation starts with a space or tab. The first line of a block
 * may also be an mbox "From " line, and may start with a UTF-8 byte-order mark.
 */

const SP = 0x20
const HT = 0x09
const COLON = 0x3a

/** True when `line` (its line break included or not) belongs to a header block. */
export function isHeaderLine (line: Buffer, first: boolean): boolean {
  let i = 0
  if (first && line[0] === 0xef && line[1] === 0xbb && line[2] === 0xbf) i = 3
  const c = line[i]
  if (c === SP || c === HT) return true
  if (first && line.toString('latin1', i, i + 5) === 'From ') return true
  const start = i
  while (i < line.length) {
    const b = line[i] as number
    if (b <= SP || b >= 0x7f || b === COLON) break
    i++
  }
  if (i === start) return false
  while (line[i] === SP || line[i] === HT) i++
  return line[i] === COLON
}

/** True for an empty line: CRLF, LF, or nothing at all. */
export function isBlankLine (line: Buffer): boolean {
  return line.length === 0 || (line.length === 1 && line[0] === 0x0a) || (line.length === 2 && line[0] === 0x0d && line[1] === 0x0a)
}
