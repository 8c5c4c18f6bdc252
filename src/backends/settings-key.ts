/**
 * Who may share a pooled connection or a maildrop session: the same account
 * (protocol, host, port, username), the same transport security and the same
 * secret, so a connection logged in with one password is never lent to a
 * caller holding another. Both backends key their reuse with this.
 */
import { accountIdOf } from '../mail/ids.ts'
import type { ConnectionSettings } from '../mail/types.ts'
import { credentialKey } from '../pool/index.ts'

export function settingsKey (settings: ConnectionSettings): { key: string, group: string } {
  const group = accountIdOf(settings)
  const secret = settings.accessToken !== undefined ? `t:${settings.accessToken}` : `p:${settings.password ?? ''}`
  return { key: credentialKey(`${group}:${settings.security}`, secret), group }
}
