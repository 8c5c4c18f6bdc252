/**
 * Pool keys: who may share a pooled connection. Two sessions share one only
 * when they reach the same account with the same secret, so a connection
 * logged in with one password is never lent to a caller holding another.
 *
 * The secret enters the key as an HMAC-SHA256 under a per-process random key:
 * the key is useless outside this process and reveals nothing about the
 * secret. Keys are still never logged.
 */
import { createHmac, randomBytes } from 'node:crypto'

const processKey = randomBytes(32)

export function credentialKey (accountId: string, secret: string): string {
  const digest = createHmac('sha256', processKey).update(secret, 'utf8').digest('base64url')
  return `${accountId}:${digest}`
}
