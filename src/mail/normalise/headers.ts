/**
 * Header block → ordered list of raw header fields.
 *
 * `value` is the raw field value as sent (RFC 2047 words NOT decoded): every fold
 * (CRLF or LF followed by whitespace) becomes a single space, and leading/trailing
 * whitespace is trimmed. Bytes are read as UTF-8 when valid (RFC 6532), else in
 * the charset of the block's own Content-Type (legacy mailers wrote raw 8-bit
 * headers in the body's charset), else windows-1252: never invalid text.
 * A leading mbox "From " line and a UTF-8 BOM are skipped. The block ends at an
 * empty line or at the first line that is neither a field nor a continuation
 * (header-line.ts): that line starts the body.
 */
import type { Header } from '../types.ts'
import { decodeLenient, knownCharset } from './charset.ts'
import { isHeaderLine } from './header-line.ts'
import { unfoldBlanks } from './linear-text.ts'

/** Bytes of one header block we read; anything beyond is ignored (hostile input). */
export const MAX_HEADER_BYTES = 1024 * 1024
/** Fields we keep from one header block. */
export const MAX_HEADER_FIELDS = 2000

/**
 * The header block of a raw message: everything up to the first empty line, or
 * up to the first line that belongs to the body (header-line.ts), or the cap.
 */
export function headerBlockOf (raw: Buffer): Buffer {
  const limit = Math.min(raw.length, MAX_HEADER_BYTES)
  let i = 0
  while (i < limit) {
    const nl = raw.indexOf(0x0a, i)
    if (nl === -1 || nl >= limit) return raw.subarray(0, limit)
    const lineStart = i
    i = nl + 1
    const len = nl - lineStart
    if (len === 0 || (len === 1 && raw[lineStart] === 0x0d)) return raw.subarray(0, i)
    if (!isHeaderLine(raw.subarray(lineStart, nl), lineStart === 0)) return raw.subarray(0, lineStart)
  }
  return raw.subarray(0, limit)
}

export function splitHeaders (block: Buffer): Header[] {
  let buf = block.length > MAX_HEADER_BYTES ? block.subarray(0, MAX_HEADER_BYTES) : block
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3)
  const fields: Buffer[][] = []
  let pos = 0
  let first = true
  while (pos < buf.length && fields.length <= MAX_HEADER_FIELDS) {
    let nl = buf.indexOf(0x0a, pos)
    if (nl === -1) nl = buf.length
    let end = nl
    if (end > pos && buf[end - 1] === 0x0d) end--
    const line = buf.subarray(pos, end)
    pos = nl + 1
    if (line.length === 0 || !isHeaderLine(line, first)) break
    const c = line[0]
    if (c === 0x20 || c === 0x09) {
      fields.at(-1)?.push(line)
    } else if (first && line.subarray(0, 5).toString('latin1') === 'From ') {
      // mbox separator line, not a header field
    } else {
      fields.push([line])
    }
    first = false
  }
  const raws = fields.slice(0, MAX_HEADER_FIELDS).map(parts => parts.length === 1 ? parts[0] as Buffer : Buffer.concat(joinFolds(parts)))
  const fallback = blockCharset(raws)
  const out: Header[] = []
  for (const raw of raws) {
    const text = decodeLenient(raw, fallback)
    const colon = text.indexOf(':')
    if (colon <= 0) continue
    const name = text.slice(0, colon).trim()
    if (!name || /[\s]/.test(name)) continue
    out.push({ name, value: unfoldBlanks(text.slice(colon + 1)).trim() })
  }
  return out
}

/** The charset of the block's Content-Type field, when it is one we can decode. */
function blockCharset (raws: Buffer[]): string | null {
  for (const raw of raws) {
    if (raw.length > 4096 || !/^content-type\s*:/i.test(raw.subarray(0, 20).toString('latin1'))) continue
    const m = /charset\s*=\s*"?([^";\s]+)/i.exec(raw.toString('latin1'))
    return knownCharset(m?.[1])
  }
  return null
}

function joinFolds (parts: Buffer[]): Buffer[] {
  const out: Buffer[] = []
  parts.forEach((p, i) => {
    if (i > 0) out.push(NL)
    out.push(p)
  })
  return out
}
const NL = Buffer.from('\n')

/** Values of every field called `name` (case-insensitive), in order. */
export function allValues (headers: Header[], name: string): string[] {
  const lower = name.toLowerCase()
  return headers.filter(h => h.name.toLowerCase() === lower).map(h => h.value)
}

export function firstValue (headers: Header[], name: string): string | null {
  const lower = name.toLowerCase()
  return headers.find(h => h.name.toLowerCase() === lower)?.value ?? null
}
