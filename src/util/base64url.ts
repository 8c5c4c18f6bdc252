/**
 * Strict base64url (RFC 4648 §5) for what the gateway issues (tokens, ids,
 * cursors). Node's decoder forgives a lot: padding, `+` and `/`, stray
 * characters, and trailing bits that do not belong to any byte, so many texts
 * decode to the same bytes. Only the one text the gateway would have written
 * for those bytes is accepted: no padding, no `+/`, no stray bits in the last
 * character.
 */
const ALPHABET = /^[A-Za-z0-9_-]*$/

/** The bytes of a canonical base64url text, else null. */
export function decodeBase64url (text: string): Buffer | null {
  if (!ALPHABET.test(text) || text.length % 4 === 1) return null
  const bytes = Buffer.from(text, 'base64url')
  // equal length and alphabet: only the last character's unused bits can differ
  return bytes.toString('base64url') === text ? bytes : null
}
