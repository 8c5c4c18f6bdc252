/**
 * Who may share a pooled connection or a maildrop session: the same account
 * (protocol, host, port, username), the same transport security and the same
 * secret, so a connection logged in with one password is never lent to a
 * caller holding another. Both backends key their reuse with this.
 */
import { accountIdOf } from '../mail/ids.ts'
import type { ConnectionSettings } from '../mail/types.ts'
import { credentialKey } from '../pool/index.ts'

/**
 * Per settings object: a session's settings come from its opened token, which
 * the service keeps (one object per token), so a cold read no longer pays a
 * SHA-256 and an HMAC for each place that asks (pool, fetch batches).
 * Settings are never mutated once a session holds them.
 */
const known = new WeakMap<ConnectionSettings, { key: string, group: string }>()

export function settingsKey (settings: ConnectionSettings): { key: string, group: string } {
  let k = known.get(settings)
  if (k === undefined) {
    const group = accountIdOf(settings)
    const secret = settings.accessToken !== undefined ? `t:${settings.accessToken}` : `p:${settings.password ?? ''}`
    k = { key: credentialKey(`${group}:${settings.security}`, secret), group }
    known.set(settings, k)
  }
  return k
}
