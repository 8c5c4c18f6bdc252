/**
 * Body values as one response carries them: JMAP's `maxBodyValueBytes` and
 * `isTruncated` (RFC 8621 §4.2), as `maxBodyBytes` and `textTruncated` /
 * `htmlTruncated`.
 *
 * A record keeps each body up to the normaliser's cap (2 MiB of UTF-8); a
 * response shows each up to the caller's `maxBodyBytes` (default 256 KiB), cut
 * on a code point and, for HTML, never inside a tag or a character reference.
 * A flag says when a value is not the whole body; the raw download
 * (`/v1/messages/{id}/raw`) is always complete.
 *
 * The JSON of a body can be six times its UTF-8 (a control character escapes to
 * `\u0001`), so what a response may hold is also counted in JSON bytes: a
 * GraphQL response has an allowance of those (see graphql/body-allowance.ts).
 */
import { GatewayError } from './errors.ts'
import { DEFAULT_MAX_BODY_BYTES } from './normalise/body.ts'
import type { Message } from './types.ts'

/** maxBodyBytes when the caller does not say. */
export const DEFAULT_RESPONSE_BODY_BYTES = 256 * 1024
/** The largest maxBodyBytes: what a record keeps of each body. */
export const MAX_RESPONSE_BODY_BYTES = DEFAULT_MAX_BODY_BYTES

/** The caller's maxBodyBytes, or the default; anything but an integer 1…MAX is bad-request. */
export function bodyCap (asked: number | null | undefined): number {
  if (asked === undefined || asked === null) return DEFAULT_RESPONSE_BODY_BYTES
  if (!Number.isInteger(asked) || asked < 1 || asked > MAX_RESPONSE_BODY_BYTES) {
    throw new GatewayError('bad-request', `maxBodyBytes must be an integer from 1 to ${MAX_RESPONSE_BODY_BYTES}`)
  }
  return asked
}

export interface Cut { end: number, json: number }

/**
 * The longest prefix of `s` within `maxUtf8` UTF-8 octets and `maxJson` bytes of
 * JSON string (its quotes included), never splitting a surrogate pair: where it
 * ends and its JSON bytes (as JSON.stringify writes it).
 */
export function cutPoint (s: string, maxUtf8: number, maxJson = Infinity): Cut {
  let utf8 = 0
  let json = 2
  let i = 0
  const n = s.length
  while (i < n) {
    const c = s.charCodeAt(i)
    let u: number
    let j: number
    let w = 1
    if (c < 0x80) {
      u = 1
      j = c === 0x22 || c === 0x5c ? 2 : c >= 0x20 ? 1 : SHORT_ESCAPES.has(c) ? 2 : 6
    } else if (c < 0x800) {
      u = j = 2
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      u = j = 4
      w = 2
    } else if (c >= 0xd800 && c <= 0xdfff) {
      u = 3 // a lone surrogate: U+FFFD in UTF-8, an escape in JSON
      j = 6
    } else {
      u = j = 3
    }
    if (utf8 + u > maxUtf8 || json + j > maxJson) break
    utf8 += u
    json += j
    i += w
  }
  return { end: i, json }
}

/** \b \t \n \f \r: two bytes in JSON; the other C0 controls take six (\u00XX). */
const SHORT_ESCAPES = new Set([0x08, 0x09, 0x0a, 0x0c, 0x0d])

/** Bytes of `s` as a JSON string, quotes included. */
export function jsonStringBytes (s: string): number {
  return cutPoint(s, Infinity).json
}

/** An HTML prefix ends before an unfinished tag or character reference. */
function backOffHtml (s: string): string {
  let out = s
  const lt = out.lastIndexOf('<')
  if (lt > out.lastIndexOf('>')) out = out.slice(0, lt)
  const amp = out.lastIndexOf('&')
  if (amp !== -1 && out.length - amp <= 32 && !out.includes(';', amp)) out = out.slice(0, amp)
  return out
}

export interface BodyValue { value: string | null, truncated: boolean, json: number }

/**
 * One body as a response shows it: at most `maxUtf8` octets and `maxJson` JSON
 * bytes. Truncated when cut here or by the normaliser (`cutBefore`).
 */
export function bodyValue (s: string | null, maxUtf8: number, maxJson: number, html: boolean, cutBefore: boolean): BodyValue {
  if (s === null) return { value: null, truncated: false, json: 4 }
  // nothing to cut, most bodies: no scan when the JSON bytes are not asked for
  if (maxJson === Infinity && (s.length * 3 <= maxUtf8 || (s.length <= maxUtf8 && Buffer.byteLength(s) <= maxUtf8))) {
    return { value: s, truncated: cutBefore, json: NaN }
  }
  const { end, json } = cutPoint(s, maxUtf8, maxJson)
  if (end === s.length) return { value: s, truncated: cutBefore, json }
  const value = detached(html ? backOffHtml(s.slice(0, end)) : s.slice(0, end), s)
  return { value, truncated: true, json: value.length === end ? json : jsonStringBytes(value) }
}

/** From this many UTF-16 units a body's cut is copied rather than kept as a slice of it. */
const DETACH_FROM_CHARS = 64 * 1024

/**
 * The cut as a string of its own. V8 makes a slice of a long string a view
 * into it: a 256 KiB cut of a 2 MiB body would keep the whole body alive for
 * as long as the response holds the cut, and with it the record it came from.
 * A copy lets the record go once the view is made (structuredClone: one copy
 * in, one out, any string, one-byte strings stay one-byte).
 */
function detached (cut: string, whole: string): string {
  return whole.length >= DETACH_FROM_CHARS ? structuredClone(cut) : cut
}

/** The body fields of a Message as a response carries them. */
export interface BodyFields {
  text: string | null
  textTruncated: boolean
  html: string | null
  htmlTruncated: boolean
}

/**
 * A message's body fields cut to `cap` octets each and, together, to `maxJson`
 * JSON bytes (the text first): the fields, and their JSON bytes (NaN when
 * `maxJson` is Infinity and nothing needed cutting, as nothing was counted).
 */
export function bodyFields (m: Message, cap: number, maxJson = Infinity): { fields: BodyFields, json: number } {
  const text = bodyValue(m.text, cap, maxJson, false, m.textTruncated)
  const html = bodyValue(m.html, cap, maxJson - (Number.isNaN(text.json) ? 0 : text.json), true, m.htmlTruncated)
  return {
    fields: { text: text.value, textTruncated: text.truncated, html: html.value, htmlTruncated: html.truncated },
    json: text.json + html.json,
  }
}

/**
 * The last cut made of each shared (frozen) message: reads of one message at
 * once with one cap share one copy of its cut bodies. Forty-eight concurrent
 * REST reads of twelve large messages held 48 cuts of 512 KiB (24 MiB); now
 * twelve. One cap per message: a client cannot grow it by asking many caps.
 */
const lastCut = new WeakMap<Message, { cap: number, message: Message }>()

/**
 * The message as a response with this cap shows it: the message itself when
 * nothing is cut (so its memoised JSON and ETag are reused), else a copy.
 */
export function messageView (m: Message, cap: number): { message: Message, cut: boolean } {
  const last = lastCut.get(m)
  if (last !== undefined && last.cap === cap) return { message: last.message, cut: true }
  const { fields } = bodyFields(m, cap)
  if (fields.text === m.text && fields.html === m.html) return { message: m, cut: false }
  if (!Object.isFrozen(m)) return { message: { ...m, ...fields }, cut: true }
  const message = Object.freeze({ ...m, ...fields })
  lastCut.set(m, { cap, message })
  return { message, cut: true }
}
