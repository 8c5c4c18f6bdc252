/**
 * Session tokens: the connection settings and credentials, sealed with
 * AES-256-GCM under a key derived (HKDF-SHA256) from GATEWAY_SECRET, plus an
 * id (for revocation) and an expiry. No server-side session store: any
 * instance with the same secret opens it; a restart keeps it valid.
 *
 *   token = "mgw1." base64url( iv(12) | ciphertext | tag(16) )
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { decodeBase64url } from '../util/base64url.ts'
import { GatewayError } from './errors.ts'
import type { Capabilities, ConnectionSettings } from './types.ts'

const PREFIX = 'mgw1.'
const AAD = Buffer.from('mail-gateway token v1')
/**
 * Longest token accepted (and issued): fits an Authorization header within
 * Node's 16 KiB header limit. sessions.ts bounds the sealed settings so that
 * every valid session input fits.
 */
export const MAX_TOKEN_CHARS = 12288

export interface TokenClaims {
  /** Token id, for revocation. */
  jti: string
  /** Expiry, ms since epoch. */
  exp: number
  settings: ConnectionSettings
  capabilities: Capabilities
}

export class TokenSealer {
  readonly #key: Buffer

  constructor (secret: Buffer) {
    this.#key = Buffer.from(hkdfSync('sha256', secret, Buffer.from('mail-gateway'), Buffer.from('token-seal v1'), 32))
  }

  seal (settings: ConnectionSettings, capabilities: Capabilities, ttlSeconds: number, now = Date.now()): { token: string, claims: TokenClaims } {
    const claims: TokenClaims = { jti: randomBytes(16).toString('base64url'), exp: now + ttlSeconds * 1000, settings, capabilities }
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv)
    cipher.setAAD(AAD)
    const body = Buffer.concat([cipher.update(JSON.stringify(claims), 'utf8'), cipher.final()])
    const token = PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')
    // Never issue a token that open() would refuse (the input is bounded; a server's capabilities are not).
    if (token.length > MAX_TOKEN_CHARS) throw new GatewayError('upstream-unavailable', 'the mail server announced more capabilities than a session token can carry')
    return { token, claims }
  }

  /** Open a token: anything malformed, tampered or expired is `unauthorized`. */
  open (token: string, now = Date.now()): TokenClaims {
    const fail = (why: string): never => { throw new GatewayError('unauthorized', why) }
    if (!token.startsWith(PREFIX) || token.length > MAX_TOKEN_CHARS) fail('malformed token')
    // only the text seal() writes: one token, one spelling
    const raw = decodeBase64url(token.slice(PREFIX.length))
    if (raw === null || raw.length < 12 + 16 + 2) return fail('malformed token')
    let claims: TokenClaims
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, 12))
      decipher.setAAD(AAD)
      decipher.setAuthTag(raw.subarray(raw.length - 16))
      const plain = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()])
      claims = JSON.parse(plain.toString('utf8')) as TokenClaims
    } catch {
      return fail('invalid token')
    }
    if (typeof claims.exp !== 'number' || claims.exp <= now) fail('token expired')
    return claims
  }
}
