/**
 * What the gateway verifies mail servers' certificates against: Node's root
 * certificates, plus the extra CA bundle of MAIL_TLS_CA_FILE when set, and
 * TLS 1.2 at least. Built once per bundle and shared by every IMAP and POP3
 * connection. Passing `ca` to tls.connect instead builds a new context on
 * each connection, and with the ~140 roots added to the bundle that parse
 * held the event loop for about 26 ms per connection on the bench machine.
 */
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls'

export const MIN_TLS_VERSION = 'TLSv1.2'

const withExtraCa = new WeakMap<Buffer, SecureContext>()
let rootsOnly: SecureContext | undefined

/** The shared context for `extraCa` (null: the root certificates only). */
export function trustContext (extraCa: Buffer | null): SecureContext {
  if (extraCa === null) {
    rootsOnly ??= createSecureContext({ minVersion: MIN_TLS_VERSION })
    return rootsOnly
  }
  let context = withExtraCa.get(extraCa)
  if (context === undefined) {
    context = createSecureContext({ ca: [...rootCertificates, extraCa.toString('utf8')], minVersion: MIN_TLS_VERSION })
    withExtraCa.set(extraCa, context)
  }
  return context
}
