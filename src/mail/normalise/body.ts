/**
 * Body text: collects the decoded bytes of candidate body parts (text/plain and
 * text/html leaves that are not attachments) under a cap, and turns the chosen
 * body parts into text/html strings and the preview.
 *
 * - Each string is capped at maxBodyBytes UTF-8 octets, cut on a code point;
 *   bytes are collected per part only up to that cap (and 4× it in total), so a
 *   huge body never sits in memory whole. A capped string says so (the record's
 *   textTruncated/htmlTruncated), so no response can pass it off as whole.
 * - CRLF → LF; format=flowed text is unflowed (RFC 3676).
 * - Several body parts of one kind are joined with "\n" (empty ones skipped).
 */
import libmime from 'libmime'
import { decodeBytes, sniffHtmlCharset } from './charset.ts'
import { htmlToText } from './html-text.ts'
import { trimEndWhere } from './linear-text.ts'
import type { PartInfo } from './part-info.ts'
import type { PartNode } from './types.ts'

export const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024
const PREVIEW_CHARS = 256

interface Collected { info: PartInfo, chunks: Buffer[], bytes: number, truncated: boolean }

export class BodyCollector {
  private readonly parts = new Map<PartNode, Collected>()
  private total = 0

  constructor (private readonly max: number) {}

  /** Whether a part's bytes may be body text (decided before its bytes arrive). */
  static isCandidate (info: PartInfo): boolean {
    const t = info.part.type
    return (t === 'text/plain' || t === 'text/html') && info.part.disposition !== 'attachment'
  }

  add (info: PartInfo, chunk: Buffer): void {
    let c = this.parts.get(info.part)
    if (!c) {
      c = { info, chunks: [], bytes: 0, truncated: false }
      this.parts.set(info.part, c)
    }
    const room = Math.min(this.max + 4 - c.bytes, this.max * 4 - this.total)
    if (room <= 0) { c.truncated = true; return }
    const take = chunk.length > room ? chunk.subarray(0, room) : chunk
    if (take.length < chunk.length) c.truncated = true
    c.chunks.push(Buffer.from(take))
    c.bytes += take.length
    this.total += take.length
  }

  /** Decoded text of one part ('' when it had no bytes). */
  textOf (part: PartNode): string {
    const c = this.parts.get(part)
    if (!c) return ''
    const buf = Buffer.concat(c.chunks, c.bytes)
    const html = part.type === 'text/html'
    let s = decodeBytes(buf, c.info.charset ?? (html ? sniffHtmlCharset(buf) : null))
    if (c.truncated) s = trimEndWhere(s, ch => ch === '\uFFFD')
    s = s.replace(/\r\n?/g, '\n')
    if (c.info.flowed && !html) s = libmime.decodeFlowed(s, c.info.delSp)
    return s
  }

  /**
   * Joined text of the given parts of one type, capped (null when there is none),
   * and whether it lost anything to the cap: bytes never collected or the cut.
   */
  join (parts: PartNode[], type: 'text/plain' | 'text/html'): { value: string | null, truncated: boolean } {
    const chosen = parts.filter(p => p.type === type)
    if (chosen.length === 0) return { value: null, truncated: false }
    const whole = chosen.map(p => this.textOf(p)).filter(Boolean).join('\n')
    const value = capUtf8(whole, this.max)
    return { value, truncated: value.length < whole.length || chosen.some(p => this.parts.get(p)?.truncated === true) }
  }
}

/** Cut a string to at most `max` UTF-8 octets, never inside a code point. */
export function capUtf8 (s: string, max: number): string {
  if (s.length * 3 <= max || Buffer.byteLength(s) <= max) return s
  let bytes = 0
  let i = 0
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number
    const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4
    if (bytes + n > max) break
    bytes += n
    i += ch.length
  }
  return s.slice(0, i)
}

/** ≤256 characters of the text (or of the HTML rendered as text), whitespace collapsed. */
export function makePreview (text: string | null, html: string | null): string {
  // the rendering stops once it has more visible characters than the preview can show
  let source = text !== null && text.trim() !== '' ? text.slice(0, 16 * 1024) : html !== null ? htmlToText(html, PREVIEW_CHARS * 2) : ''
  source = source.replace(/\s+/g, ' ').trim()
  return Array.from(source.slice(0, PREVIEW_CHARS * 2)).slice(0, PREVIEW_CHARS).join('')
}
