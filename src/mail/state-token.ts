/**
 * Mailbox states (contract §8): opaque to callers, authenticated (HMAC with a
 * key derived from the gateway secret, apart from the cursor key) and bound to
 * the account and the mailbox they describe, so a forged, truncated or
 * borrowed state is a clean 400, never a wrong answer.
 *
 * What a state holds:
 * - IMAP with CONDSTORE: (UIDVALIDITY, HIGHESTMODSEQ, UIDNEXT, MESSAGES) — the
 *   changes after it are computed from the server with nothing stored.
 * - POP3: the digest of a UIDL snapshot kept in the account's cache.
 * - A page boundary while `hasMoreChanges`: where the paged sequence started,
 *   the state it leads to, and the position reached. It is a valid state: the
 *   rest follows from it.
 *
 * Equal states encode to equal strings (no randomness), so an event id
 * derived from states is the same whoever computes it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { decodeBase64url } from '../util/base64url.ts'
import type { ModseqState } from './backend.ts'
import { GatewayError } from './errors.ts'

const MAC_BYTES = 12
/** Far above any state the gateway issues (two POP3 digests, or two IMAP tuples, and a position). */
const MAX_STATE_CHARS = 512

export type DecodedState =
  | { kind: 'modseq', from: ModseqState, page?: { to: ModseqState, after: number } }
  | { kind: 'uidl', from: string, page?: { to: string, after: number } }

export interface StateScope {
  accountId: string
  mailbox: string
}

const DIGITS = /^(0|[1-9]\d{0,19})$/
const U32 = /^(0|[1-9]\d{0,9})$/
const DIGEST = /^[A-Za-z0-9_-]{22}$/

function u32 (text: string | undefined): number | null {
  if (text === undefined || !U32.test(text)) return null
  const n = Number(text)
  return n <= 0xffffffff ? n : null
}

function modseqText (s: ModseqState): string {
  return `${s.validity}.${s.modseq}.${s.uidNext}.${s.messages}`
}

function parseModseq (text: string | undefined): ModseqState | null {
  const parts = (text ?? '').split('.')
  if (parts.length !== 4) return null
  const [validity, modseq, uidNext, messages] = parts
  const v = u32(validity)
  const n = u32(uidNext)
  const c = u32(messages)
  if (v === null || v === 0 || modseq === undefined || !DIGITS.test(modseq) || n === null || c === null) return null
  return { validity: String(v), modseq, uidNext: n, messages: c }
}

export class StateCodec {
  readonly #key: Buffer

  constructor (secret: Buffer) {
    this.#key = createHmac('sha256', secret).update('mail-gateway mailbox state v1').digest()
  }

  #mac (scope: StateScope, data: string): Buffer {
    return createHmac('sha256', this.#key)
      .update(scope.accountId).update('\0').update(scope.mailbox).update('\0').update(data)
      .digest().subarray(0, MAC_BYTES)
  }

  #seal (scope: StateScope, data: string): string {
    return Buffer.concat([this.#mac(scope, data), Buffer.from(data, 'utf8')]).toString('base64url')
  }

  modseq (scope: StateScope, from: ModseqState, page?: { to: ModseqState, after: number }): string {
    const tail = page === undefined ? '' : `~${modseqText(page.to)}~${page.after}`
    return this.#seal(scope, `m1~${modseqText(from)}${tail}`)
  }

  uidl (scope: StateScope, from: string, page?: { to: string, after: number }): string {
    const tail = page === undefined ? '' : `~${page.to}~${page.after}`
    return this.#seal(scope, `u1~${from}${tail}`)
  }

  /** A state this gateway issued for this account and mailbox, else `bad-request`. */
  decode (scope: StateScope, state: string): DecodedState {
    const bad = (): never => { throw new GatewayError('bad-request', 'malformed state, or one issued for another mailbox') }
    const raw = state.length > MAX_STATE_CHARS ? null : decodeBase64url(state)
    if (raw === null || raw.length <= MAC_BYTES) return bad()
    const data = raw.subarray(MAC_BYTES).toString('utf8')
    if (!timingSafeEqual(raw.subarray(0, MAC_BYTES), this.#mac(scope, data))) return bad()
    const [version, from, to, after, ...rest] = data.split('~')
    if (rest.length > 0 || (to === undefined) !== (after === undefined)) return bad()
    const position = after === undefined ? null : u32(after)
    if (after !== undefined && position === null) return bad()
    if (version === 'm1') {
      const f = parseModseq(from)
      const t = to === undefined ? undefined : parseModseq(to)
      if (f === null || t === null || (t !== undefined && t.validity !== f.validity)) return bad()
      return t === undefined ? { kind: 'modseq', from: f } : { kind: 'modseq', from: f, page: { to: t, after: position! } }
    }
    if (version === 'u1') {
      if (from === undefined || !DIGEST.test(from) || (to !== undefined && !DIGEST.test(to))) return bad()
      return to === undefined ? { kind: 'uidl', from } : { kind: 'uidl', from, page: { to, after: position! } }
    }
    return bad()
  }
}
