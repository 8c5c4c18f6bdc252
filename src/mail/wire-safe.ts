/**
 * The one check for text that travels to a mail server inside a protocol line
 * (user names, passwords, access tokens, mailbox names, search filters): no C0
 * control (NUL, CR, LF, TAB, …), no DEL, no U+2028/U+2029 line separators.
 *
 * Such a character is never a legitimate part of these values, and on the
 * wire it ends a command early, adds a SASL field (XOAUTH2 joins its fields
 * with \x01) or makes the server answer BAD. Refused up front as 400
 * `bad-request` naming the field, so nothing of it is sent, on any face:
 * REST and GraphQL reach this through validateSessionInput, parseMessageFilter
 * and the id decoders.
 */
import { GatewayError } from './errors.ts'

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f\u2028\u2029]/

export function isWireSafe (value: string): boolean {
  return !UNSAFE.test(value)
}

/** `value`, or a bad-request naming `field`. */
export function wireSafe (field: string, value: string): string {
  if (!isWireSafe(value)) throw new GatewayError('bad-request', `${field} must not contain control characters (CR, LF, NUL, other C0, DEL) or line separators (U+2028, U+2029)`)
  return value
}
