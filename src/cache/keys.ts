/**
 * Cache key layout (see README.md):
 *
 *   mg:v1:{<account tag>}:<kind>:<digest>     account-scoped entries
 *   mg:v1:<kind>:<digest>                     global entries (revocations)
 *
 * The account tag and the digest are keyed HMACs under a key derived from the
 * gateway secret, so no account id, user name, host, mailbox name, UID or UIDL
 * appears in clear, and nobody without the secret can compute or link them.
 * `{…}` is a Redis Cluster hash tag: all of one account's keys share a slot.
 */
import { createHmac, hkdfSync } from 'node:crypto'

export const KEY_PREFIX = 'mg'
/** Bump to invalidate every cached entry after a layout or format change. */
export const KEY_VERSION = 'v1'

const HKDF_SALT = Buffer.from('mail-gateway/cache/v1', 'utf8')
const KIND_RE = /^[a-z][a-z0-9-]{0,31}$/

export type KeyPart = string | number | bigint

/** HKDF-SHA256(secret, salt, info = purpose ‖ 0 ‖ context) → 32 bytes. */
export function deriveKey (secret: Buffer, purpose: string, context = ''): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, HKDF_SALT, `${purpose}\0${context}`, 32))
}

const namingKeys = new WeakMap<Buffer, Buffer>()

/** The HMAC key for names, derived once per secret. */
function namingKey (secret: Buffer): Buffer {
  let key = namingKeys.get(secret)
  if (key === undefined) {
    key = deriveKey(secret, 'key-naming')
    namingKeys.set(secret, key)
  }
  return key
}

function mac (secret: Buffer, label: string, fields: readonly string[], bytes: number): string {
  const h = createHmac('sha256', namingKey(secret))
  h.update(label)
  // Length-prefix each field so ('ab','c') and ('a','bc') never collide.
  for (const f of fields) h.update(`\0${Buffer.byteLength(f)}:${f}`)
  return h.digest().subarray(0, bytes).toString('base64url')
}

function checkKind (kind: string): void {
  if (!KIND_RE.test(kind)) throw new TypeError(`invalid cache key kind "${kind}"`)
}

/** Opaque, stable, keyed tag for an account id (128 bits, base64url). */
export function accountTag (secret: Buffer, accountId: string): string {
  return mac(secret, 'account', [accountId], 16)
}

/**
 * `mg:v1:{tag}:kind:digest`, where digest = HMAC(tag, kind, parts). Binding the
 * tag into the digest means the same mailbox name in two accounts gives
 * unrelated digests.
 */
export function cacheKey (secret: Buffer, tag: string, kind: string, ...parts: KeyPart[]): string {
  checkKind(kind)
  const digest = mac(secret, 'entry', [tag, kind, ...parts.map(String)], 18)
  return `${KEY_PREFIX}:${KEY_VERSION}:{${tag}}:${kind}:${digest}`
}

/** `mg:v1:kind:digest` for entries that belong to no account (e.g. revocations). */
export function globalKey (secret: Buffer, kind: string, ...parts: KeyPart[]): string {
  checkKind(kind)
  const digest = mac(secret, 'global', [kind, ...parts.map(String)], 18)
  return `${KEY_PREFIX}:${KEY_VERSION}:${kind}:${digest}`
}

/** base ± ratio (default ±10 %), whole seconds ≥ 1, so entries written together do not expire together. */
export function ttlWithJitter (baseSeconds: number, ratio = 0.1): number {
  const factor = 1 + (Math.random() * 2 - 1) * ratio
  return Math.max(1, Math.round(baseSeconds * factor))
}
