/**
 * Page cursors: opaque to callers, authenticated (HMAC) so a tampered cursor is
 * a clean 400, and bound to the account, the mailbox and the filter they were
 * issued for (reusing one elsewhere is a 400 too, never a wrong page).
 * The payload is the backend's keyset position (IMAP "uidvalidity:uid",
 * POP3 the last UIDL) — never an offset or a sequence number.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { decodeBase64url } from '../util/base64url.ts'
import { GatewayError } from './errors.ts'
import type { MessageFilter } from './types.ts'

const MAC_BYTES = 12

export interface CursorScope {
  accountId: string
  mailbox: string
  filter: MessageFilter
}

function scopeHash (scope: CursorScope): string {
  const f = scope.filter
  const canonical = JSON.stringify([
    scope.accountId, scope.mailbox, f.unread ?? null, f.flagged ?? null, f.from ?? null, f.to ?? null,
    f.subject ?? null, f.text ?? null, f.since?.toISOString() ?? null, f.before?.toISOString() ?? null,
  ])
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16)
}

export class CursorCodec {
  readonly #key: Buffer

  constructor (secret: Buffer) {
    this.#key = createHmac('sha256', secret).update('mail-gateway cursor v1').digest()
  }

  #mac (data: Buffer): Buffer {
    return createHmac('sha256', this.#key).update(data).digest().subarray(0, MAC_BYTES)
  }

  encode (scope: CursorScope, position: string): string {
    return this.encoder(scope)(position)
  }

  /** An encoder for one scope: a page's cursors share its hash. */
  encoder (scope: CursorScope): (position: string) => string {
    const s = scopeHash(scope)
    return (position) => {
      const data = Buffer.from(JSON.stringify({ s, p: position }), 'utf8')
      return Buffer.concat([this.#mac(data), data]).toString('base64url')
    }
  }

  decode (scope: CursorScope, cursor: string): string {
    const bad = (): never => { throw new GatewayError('bad-request', 'malformed or foreign cursor') }
    const raw = cursor.length > 2048 ? null : decodeBase64url(cursor)
    if (raw === null || raw.length <= MAC_BYTES) return bad()
    const mac = raw.subarray(0, MAC_BYTES)
    const data = raw.subarray(MAC_BYTES)
    if (!timingSafeEqual(mac, this.#mac(data))) bad()
    let parsed: unknown
    try { parsed = JSON.parse(data.toString('utf8')) } catch { return bad() }
    const p = parsed as { s?: unknown, p?: unknown }
    if (typeof p.s !== 'string' || typeof p.p !== 'string' || p.s !== scopeHash(scope)) bad()
    return p.p as string
  }
}
