/**
 * Keyword names and keyword patches as the contract takes them (§7, JMAP
 * RFC 8621 §4.1.1): a keyword is 1–255 characters of %x21–%x7E without
 * `( ) { ] % * " \`, compared case-insensitively (kept lower-case). So
 * `\Deleted` and `\Recent` can never be named: they are not keywords.
 *
 * A patch is RFC 7396 on the keyword map: `true` sets, `null` or `false`
 * clears, names not given are left as they are.
 */
import { GatewayError } from './errors.ts'
import type { KeywordPatch } from './writers.ts'

const KEYWORD = /^[\x21-\x7e]{1,255}$/
const FORBIDDEN = /[(){\]%*"\\]/

/** The most names one patch may carry (a message rarely has more than a handful). */
export const MAX_PATCH_KEYWORDS = 100

export function isKeyword (name: string): boolean {
  return KEYWORD.test(name) && !FORBIDDEN.test(name)
}

/** A request body's `keywords` member → a normalised patch; 400 for anything else. */
export function parseKeywordPatch (value: unknown): KeywordPatch {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new GatewayError('bad-request', 'keywords must be an object of keyword names to true, false or null')
  }
  const entries = Object.entries(value)
  if (entries.length === 0) throw new GatewayError('bad-request', 'keywords names no keyword to change')
  if (entries.length > MAX_PATCH_KEYWORDS) throw new GatewayError('bad-request', `keywords may name at most ${MAX_PATCH_KEYWORDS} keywords`)
  const patch: KeywordPatch = Object.create(null) as KeywordPatch
  for (const [name, v] of entries) {
    if (!isKeyword(name)) throw new GatewayError('bad-request', 'a keyword name is not valid (JMAP: 1–255 printable ASCII characters, none of ( ) { ] % * " \\)')
    if (v !== true && v !== false && v !== null) throw new GatewayError('bad-request', 'each keyword maps to true (set), false or null (clear)')
    const key = name.toLowerCase()
    if (key in patch && patch[key] !== (v === true)) throw new GatewayError('bad-request', 'a keyword is both set and cleared')
    patch[key] = v === true
  }
  return patch
}
