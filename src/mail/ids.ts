/**
 * Opaque, stable, URL-safe public ids that decode without any database:
 *
 *   account  = base64url(sha256("v1\0" protocol \0 host \0 port \0 username))[0..22]
 *   mailbox  = base64url( 1 | kind | tag(6) | path utf-8 )
 *   message  = base64url( 1 | kind | tag(6) | uidvalidity u32 | uid u32 | path )   IMAP
 *              base64url( 1 | kind | tag(6) | uidl )                                POP3
 *
 * `tag` is the first bytes of a hash of the account id: an id is only ever
 * resolved inside the account that issued it (another account gets not-found),
 * and it is the same in every session, instance and restart.
 */
import { createHash } from 'node:crypto'
import type { MessageKey } from './backend.ts'
import { decodeBase64url } from '../util/base64url.ts'
import { GatewayError } from './errors.ts'
import { wireSafe } from './wire-safe.ts'
import type { Protocol } from './types.ts'

const VERSION = 1
const KIND_MAILBOX = 1
const KIND_IMAP_MESSAGE = 2
const KIND_POP3_MESSAGE = 3
const TAG_BYTES = 6
/** Also the router's maxParamLength (app.ts) and openapi.yaml's Id: ids of long mailbox paths (1 400 characters for 350 CJK ones) must come back. */
export const MAX_ID_CHARS = 2048
const MAX_U32 = 0xffffffff

export interface AccountIdentity {
  protocol: Protocol
  host: string
  port: number
  username: string
}

export function accountIdOf (a: AccountIdentity): string {
  const h = createHash('sha256').update(['v1', a.protocol, a.host.toLowerCase(), String(a.port), a.username].join('\0'))
  return h.digest('base64url').slice(0, 22)
}

const tags = new Map<string, Buffer>()

/** Memoised: every id encoded or decoded needs its account's tag. */
function tagOf (accountId: string): Buffer {
  let tag = tags.get(accountId)
  if (tag === undefined) {
    if (tags.size >= 10_000) tags.clear()
    tag = createHash('sha256').update(accountId).digest().subarray(0, TAG_BYTES)
    tags.set(accountId, tag)
  }
  return tag
}

function header (kind: number, accountId: string): Buffer {
  return Buffer.concat([Buffer.from([VERSION, kind]), tagOf(accountId)])
}

function u32 (value: string, what: string): Buffer {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > MAX_U32) throw new Error(`${what} out of range: ${value}`)
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}

export function encodeMailboxId (accountId: string, path: string): string {
  return Buffer.concat([header(KIND_MAILBOX, accountId), Buffer.from(path, 'utf8')]).toString('base64url')
}

export function encodeMessageId (accountId: string, key: MessageKey): string {
  if (key.validity === null) {
    return Buffer.concat([header(KIND_POP3_MESSAGE, accountId), Buffer.from(key.key, 'utf8')]).toString('base64url')
  }
  return Buffer.concat([
    header(KIND_IMAP_MESSAGE, accountId), u32(key.validity, 'UIDVALIDITY'), u32(key.key, 'UID'), Buffer.from(key.mailbox, 'utf8'),
  ]).toString('base64url')
}

/** Decode and check an id: malformed → bad-request; another account's → not-found. */
function open (id: string, accountId: string, what: string): { kind: number, body: Buffer } {
  const buf = id.length > MAX_ID_CHARS ? null : decodeBase64url(id)
  if (buf === null || buf.length < 2 + TAG_BYTES || buf[0] !== VERSION) throw new GatewayError('bad-request', `malformed ${what} id`)
  if (!buf.subarray(2, 2 + TAG_BYTES).equals(tagOf(accountId))) {
    throw new GatewayError('not-found', `no such ${what} in this account`)
  }
  return { kind: buf[1]!, body: buf.subarray(2 + TAG_BYTES) }
}

export function decodeMailboxId (accountId: string, id: string): string {
  const { kind, body } = open(id, accountId, 'mailbox')
  if (kind !== KIND_MAILBOX || body.length === 0) throw new GatewayError('bad-request', 'malformed mailbox id')
  return wireSafe('the mailbox name of mailboxId', body.toString('utf8'))
}

export function decodeMessageId (accountId: string, protocol: Protocol, id: string): MessageKey {
  const { kind, body } = open(id, accountId, 'message')
  if (kind === KIND_IMAP_MESSAGE && protocol === 'imap' && body.length > 8) {
    return {
      validity: String(body.readUInt32BE(0)),
      key: String(body.readUInt32BE(4)),
      mailbox: wireSafe('the mailbox name of messageId', body.subarray(8).toString('utf8')),
    }
  }
  if (kind === KIND_POP3_MESSAGE && protocol === 'pop3' && body.length > 0) {
    return { mailbox: 'INBOX', validity: null, key: wireSafe('the UIDL of messageId', body.toString('utf8')) }
  }
  throw new GatewayError('bad-request', 'malformed message id')
}
