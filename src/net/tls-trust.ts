/**
 * What the gateway verifies mail servers' certificates against: Node's root
 * certificates, plus the extra CA bundle of MAIL_TLS_CA_FILE when set, and
 * TLS 1.2 at least. Built once per bundle and shared by every IMAP and POP3
 * connection. Passing `ca` to tls.connect instead builds a new context on
 * each connection, and with the ~140 roots added to the bundle that parse
 * held the event loop for about 26 ms per connection on the bench machine.
 */
import { X509Certificate } from 'node:crypto'
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

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g

/**
 * Checks an extra CA bundle before it is trusted: Node's TLS silently skips
 * anything in `ca` that is not a PEM certificate, so a DER file or a broken
 * block would leave the mail servers it was meant for failing verification,
 * with nothing saying why. Throws a message for the operator; returns how many
 * certificates the bundle holds.
 */
export function checkCaBundle (bundle: Buffer, source: string): number {
  const blocks = bundle.toString('latin1').match(PEM_BLOCK) ?? []
  if (blocks.length === 0) {
    throw new Error(`${source} holds no PEM certificate ("-----BEGIN CERTIFICATE-----"); a DER file converts with: openssl x509 -inform der -in ca.der -out ca.pem`)
  }
  // a self-signed server certificate is a valid trust anchor too: parsing is the check
  blocks.forEach((block, i) => {
    try {
      return new X509Certificate(block)
    } catch (err) {
      throw new Error(`${source}: certificate ${i + 1} of ${blocks.length} is not usable: ${(err as Error).message}`)
    }
  })
  return blocks.length
}
