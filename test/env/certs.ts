import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface CertFiles {
  /** PEM of the self-signed CA: pass it as `ca` to verify the server. */
  caFile: string
  /** PEM of the server certificate (SAN DNS:localhost, IP:127.0.0.1), signed by the CA. */
  certFile: string
  keyFile: string
}

async function openssl (dir: string, args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir })
}

/**
 * Generates a throw-away CA and a server certificate signed by it, for `localhost` and
 * `127.0.0.1` unless `subjectAltName` says otherwise. EC P-256 keys keep this well under 100 ms.
 */
export async function makeCerts (dir: string, subjectAltName = 'DNS:localhost, IP:127.0.0.1'): Promise<CertFiles> {
  const caKey = join(dir, 'ca.key')
  const caFile = join(dir, 'ca.pem')
  const keyFile = join(dir, 'server.key')
  const csr = join(dir, 'server.csr')
  const certFile = join(dir, 'server.pem')
  const ext = join(dir, 'server.ext')
  await writeFile(ext, [
    'basicConstraints = CA:FALSE',
    'keyUsage = digitalSignature, keyEncipherment',
    'extendedKeyUsage = serverAuth',
    `subjectAltName = ${subjectAltName}`,
    ''
  ].join('\n'))
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  await openssl(dir, ['req', '-x509', ...ec, '-keyout', caKey, '-out', caFile, '-days', '2',
    '-subj', '/CN=mail-gateway test CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
  await openssl(dir, ['req', '-new', ...ec, '-keyout', keyFile, '-out', csr, '-subj', '/CN=localhost'])
  await openssl(dir, ['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial',
    '-out', certFile, '-days', '2', '-extfile', ext])
  return { caFile, certFile, keyFile }
}
