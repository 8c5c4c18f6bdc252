/**
 * The JSON compose request (contract §10), checked before anything is built
 * or sent: addresses are plain addr-specs (RFC 5321 mailbox syntax, no
 * comments or groups), display names, the subject, file names and extra
 * header values carry no line break or control character (no header
 * injection: refused as 400, never folded into a new field), extra header
 * names are `X-…` field names, and everything a caller can grow is bounded.
 */
import { GatewayError } from './errors.ts'
import type { Draft, DraftAddress, DraftAttachment } from './send-port.ts'
import { isWireSafe } from './wire-safe.ts'

/** Input bounds; openapi.yaml's SendMessageRequest states the same numbers. */
export const SEND_INPUT_LIMITS = {
  name: 256,
  subject: 998,
  filename: 255,
  contentType: 255,
  headerValue: 998,
  headers: 32,
  attachments: 100,
} as const

/** RFC 5321 Mailbox (dot-atom or quoted local part, domain or address literal), ≤ 254 octets. */
const LOCAL = /^(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\uffff-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\uffff-]+)*|"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*")$/
const DOMAIN = /^(?:(?:[A-Za-z0-9\u0080-\uffff](?:[A-Za-z0-9\u0080-\uffff-]{0,61}[A-Za-z0-9\u0080-\uffff])?\.)*[A-Za-z0-9\u0080-\uffff](?:[A-Za-z0-9\u0080-\uffff-]{0,61}[A-Za-z0-9\u0080-\uffff])?|\[[0-9.:A-Fa-f]+\])$/
const FIELD_NAME = /^X-[\x21-\x39\x3b-\x7e]{1,74}$/i
const CONTENT_TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/i
const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$/

function bad (detail: string): never {
  throw new GatewayError('bad-request', detail)
}

/** A single line of text: no CR, LF or other control character (header injection), bounded. */
export function headerText (field: string, value: unknown, max: number): string {
  if (typeof value !== 'string' || value.length > max) bad(`${field} must be a string of at most ${max} characters`)
  if (!isWireSafe(value)) bad(`${field} must not contain line breaks or control characters`)
  return value
}

export function isAddress (email: string): boolean {
  const at = email.lastIndexOf('@')
  if (at < 1 || email.length > 254 || !isWireSafe(email)) return false
  return LOCAL.test(email.slice(0, at)) && DOMAIN.test(email.slice(at + 1))
}

function address (field: string, value: unknown): DraftAddress {
  if (typeof value !== 'object' || value === null) bad(`${field} must be an address object { name?, email }`)
  const { name, email } = value as { name?: unknown, email?: unknown }
  if (typeof email !== 'string' || !isAddress(email)) bad(`${field}.email is not a valid email address`)
  return { name: name === undefined || name === null ? null : headerText(`${field}.name`, name, SEND_INPUT_LIMITS.name), email }
}

function addresses (field: string, value: unknown): DraftAddress[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) bad(`${field} must be an array of addresses`)
  return value.map((a, i) => address(`${field}[${i}]`, a))
}

function attachment (field: string, value: unknown): DraftAttachment {
  if (typeof value !== 'object' || value === null) bad(`${field} must be an object { filename, contentType, content }`)
  const a = value as { filename?: unknown, contentType?: unknown, content?: unknown }
  const filename = headerText(`${field}.filename`, a.filename, SEND_INPUT_LIMITS.filename)
  if (filename === '' || /[/\\"]/.test(filename)) bad(`${field}.filename must be a file name without / \\ or "`)
  const contentType = headerText(`${field}.contentType`, a.contentType ?? 'application/octet-stream', SEND_INPUT_LIMITS.contentType)
  if (!CONTENT_TYPE.test(contentType)) bad(`${field}.contentType must be a media type like application/pdf`)
  if (typeof a.content !== 'string' || !BASE64.test(a.content)) bad(`${field}.content must be base64`)
  return { filename, contentType: contentType.toLowerCase(), base64: a.content }
}

function extraHeaders (value: unknown): Draft['headers'] {
  if (value === undefined || value === null) return []
  if (typeof value !== 'object' || Array.isArray(value)) bad('headers must be an object of "X-…" names to values')
  const entries = Object.entries(value as Record<string, unknown>)
  if (entries.length > SEND_INPUT_LIMITS.headers) bad(`at most ${SEND_INPUT_LIMITS.headers} extra headers`)
  return entries.map(([name, v]) => {
    if (!FIELD_NAME.test(name)) bad(`header "${name.slice(0, 80)}" is not allowed: only X-… field names`)
    return { name, value: headerText(`headers.${name}`, v, SEND_INPUT_LIMITS.headerValue) }
  })
}

function optionalText (field: string, value: unknown): string | null {
  if (value === undefined || value === null) return null
  if (typeof value !== 'string') bad(`${field} must be a string`)
  return value
}

export interface SendInput {
  from?: unknown
  to?: unknown
  cc?: unknown
  bcc?: unknown
  replyTo?: unknown
  subject?: unknown
  text?: unknown
  html?: unknown
  attachments?: unknown
  inReplyTo?: unknown
  headers?: unknown
  saveToSent?: unknown
}

/** The checked draft, its `from` defaulting to `login` (the login name when it is an address). */
export function parseDraft (input: SendInput, login: string | null, maxRecipients: number): Draft {
  if (typeof input !== 'object' || input === null) bad('the body must be a JSON object')
  let from: DraftAddress
  if (input.from !== undefined && input.from !== null) from = address('from', input.from)
  else if (login !== null && isAddress(login)) from = { name: null, email: login }
  else bad('from is required: the login name is not an email address')
  const to = addresses('to', input.to)
  const cc = addresses('cc', input.cc)
  const bcc = addresses('bcc', input.bcc)
  const count = to.length + cc.length + bcc.length
  if (count === 0) bad('a message needs at least one recipient (to, cc or bcc)')
  if (count > maxRecipients) bad(`at most ${maxRecipients} recipients per message`)
  const rawAttachments = input.attachments ?? []
  if (!Array.isArray(rawAttachments) || rawAttachments.length > SEND_INPUT_LIMITS.attachments) {
    bad(`attachments must be an array of at most ${SEND_INPUT_LIMITS.attachments}`)
  }
  return {
    from,
    to,
    cc,
    bcc,
    replyTo: addresses('replyTo', input.replyTo),
    subject: input.subject === undefined || input.subject === null ? null : headerText('subject', input.subject, SEND_INPUT_LIMITS.subject),
    text: optionalText('text', input.text),
    html: optionalText('html', input.html),
    attachments: rawAttachments.map((a, i) => attachment(`attachments[${i}]`, a)),
    headers: extraHeaders(input.headers),
    inReplyTo: null,
    references: [],
  }
}
