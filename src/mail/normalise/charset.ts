/**
 * Bytes → UTF-8 text. One place decides how a charset label is read, for bodies
 * and for raw 8-bit header bytes alike.
 *
 * - A known charset (libmime's alias table + iconv-lite, encoding-japanese for
 *   ISO-2022-JP and friends) is decoded; invalid sequences become U+FFFD.
 * - No charset, us-ascii, or a label nobody knows ("fakescii", "X-UNKNOWN",
 *   "charset=us-ascii"): UTF-8 when the bytes are valid UTF-8, else windows-1252
 *   (the de-facto reading of undeclared 8-bit mail). Never throws.
 * - UTF-7 is refused by libmime (a known filter-evasion trick) and read as above.
 */
import { isAscii, isUtf8 } from 'node:buffer'
import iconv from 'iconv-lite'
import libmime from 'libmime'
import { decode as decodeCharset } from 'libmime/lib/charset.js'

const ASCII_LIKE = /^(?:(?:us-)?ascii|7bit|8bit|binary|none|default|x-unknown|unknown|us|ansi_x3\.4-1968)$/i
const UTF8 = /^utf-?8$/i

const CJK = /^(?:big5|gbk|gb2312|gb18030|euc-?kr|euc-?jp|shift_jis|sjis|cp949|cp936|iso-?2022-?(?:jp|kr))/i

function isLatin1Range (s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false
  return true
}

/**
 * Mojibake repair for one known failure: CJK text (big5, gbk, euc-kr …) that
 * was once read as latin1 and re-encoded as UTF-8. Genuine CJK bytes are almost
 * never valid UTF-8 made only of U+0080–U+00FF, so the repair is applied only
 * then, and only when it yields fewer U+FFFD than the text it replaces.
 */
function repairDoubleEncoded (utf8: string, charset: string): string {
  if (!CJK.test(charset) || !isLatin1Range(utf8) || isAscii(Buffer.from(utf8, 'latin1'))) return utf8
  let repaired: string
  try {
    repaired = decodeCharset(Buffer.from(utf8, 'latin1'), charset)
  } catch {
    return utf8
  }
  const bad = (t: string): number => t.split('\uFFFD').length - 1
  return bad(repaired) === 0 ? repaired : utf8
}

/** UTF-8 when valid, else `fallback` (a knownCharset() name), else windows-1252. */
export function decodeLenient (buf: Buffer, fallback: string | null = null): string {
  if (isAscii(buf)) return buf.toString('utf8')
  if (isUtf8(buf)) return fallback ? repairDoubleEncoded(buf.toString('utf8'), fallback) : buf.toString('utf8')
  if (fallback && fallback !== 'utf-8') {
    try {
      return decodeCharset(buf, fallback)
    } catch {}
  }
  return iconv.decode(buf, 'windows-1252')
}

/** Canonical charset name iconv-lite (or encoding-japanese) can decode, or null when unknown. */
export function knownCharset (label: string | null | undefined): string | null {
  if (!label) return null
  const raw = label.trim().replace(/^["']|["']$/g, '')
  if (!raw || ASCII_LIKE.test(raw)) return null
  if (UTF8.test(raw)) return 'utf-8'
  let name: string
  try {
    name = libmime.normalizeCharset(raw)
  } catch {
    return null
  }
  if (/^utf-?7/i.test(name) || /^utf-?7/i.test(raw)) return null
  if (/^jis|^iso-?2022-?jp|^eucjp/i.test(name)) return name
  if (/^(?:windows-1252)$/i.test(name) && /ascii/i.test(raw)) return null
  return iconv.encodingExists(name) ? name : null
}

/** Decode body or header bytes declared in `charset` (may be null/bogus). */
export function decodeBytes (buf: Buffer, charset: string | null | undefined): string {
  const name = knownCharset(charset)
  if (!name) return decodeLenient(buf)
  if (name === 'utf-8') return buf.toString('utf8')
  if (CJK.test(name) && !isAscii(buf) && isUtf8(buf)) return decodeLenient(buf, name)
  try {
    return decodeCharset(buf, name)
  } catch {
    return decodeLenient(buf)
  }
}

/** Looks for `<meta charset=…>` / `content="…; charset=…"` in the first bytes of an HTML body. */
export function sniffHtmlCharset (buf: Buffer): string | null {
  const head = buf.subarray(0, 2048).toString('latin1')
  const m = /<meta[^>]*charset\s*=\s*["']?\s*([a-z0-9_.:-]+)/i.exec(head)
  return m?.[1] ?? null
}

/**
 * RFC 2047 encoded words → text (adjacent words joined, also inside quotes, as
 * real-world mail needs). Unknown charsets are read as UTF-8; never throws.
 */
export function decodeWords (value: string): string {
  if (!value.includes('=?')) return value
  try {
    return libmime.decodeWords(value)
  } catch {
    return value
  }
}
