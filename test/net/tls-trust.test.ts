import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import tls from 'node:tls'
import { X509Certificate } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { loadConfig } from '../../src/config.ts'
import { checkCaBundle, trustContext } from '../../src/net/tls-trust.ts'
import { makeCerts } from '../env/certs.ts'

let dir: string
let ca: Buffer
let cert: Buffer
let key: Buffer

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mgw-tls-trust-'))
  const files = await makeCerts(dir)
  ca = await readFile(files.caFile)
  cert = await readFile(files.certFile)
  key = await readFile(files.keyFile)
})
after(async () => { await rm(dir, { recursive: true, force: true }) })

/** A TLS server with the test certificate; resolves with how a client using `context` fared. */
async function handshake (context: tls.SecureContext): Promise<'ok' | string> {
  const server = tls.createServer({ cert, key }, s => { s.end() })
  server.on('tlsClientError', () => {})
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  try {
    return await new Promise(resolve => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', secureContext: context, rejectUnauthorized: true })
      socket.on('secureConnect', () => { socket.destroy(); resolve('ok') })
      socket.on('error', (err: Error & { code?: string }) => { resolve(err.code ?? err.message) })
    })
  } finally {
    server.close()
  }
}

describe('trustContext', () => {
  it('is built once per CA bundle and shared', () => {
    assert.equal(trustContext(ca), trustContext(ca))
    assert.equal(trustContext(null), trustContext(null))
    assert.notEqual(trustContext(ca), trustContext(null))
    assert.notEqual(trustContext(ca), trustContext(Buffer.from(ca)), 'another bundle gets its own context')
  })

  it('trusts a server signed by the extra CA, and only with it', async () => {
    assert.equal(await handshake(trustContext(ca)), 'ok')
    assert.equal(await handshake(trustContext(null)), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')
  })
})

describe('MAIL_TLS_CA_FILE is checked at start-up (Node\'s TLS skips what it cannot read, silently)', () => {
  it('a PEM bundle loads, its certificates counted', async () => {
    const file = join(dir, 'bundle.pem')
    await writeFile(file, Buffer.concat([ca, Buffer.from('\n'), cert]))
    assert.equal(checkCaBundle(await readFile(file), 'bundle'), 2)
    assert.deepEqual(loadConfig({ MAIL_TLS_CA_FILE: file }).tlsCa, await readFile(file))
  })

  it('a DER file, an empty file and a broken PEM block stop start-up with a message naming the file', async () => {
    const der = join(dir, 'ca.der')
    await writeFile(der, new X509Certificate(ca).raw)
    assert.throws(() => loadConfig({ MAIL_TLS_CA_FILE: der }), /MAIL_TLS_CA_FILE \(.*ca\.der\) holds no PEM certificate.*openssl x509 -inform der/)
    const empty = join(dir, 'empty.pem')
    await writeFile(empty, '')
    assert.throws(() => loadConfig({ MAIL_TLS_CA_FILE: empty }), /holds no PEM certificate/)
    const broken = join(dir, 'broken.pem')
    const pem = ca.toString('latin1')
    const cut = pem.indexOf('\n', pem.indexOf('\n') + 1) // the body's first line
    await writeFile(broken, ca.toString('latin1') + pem.slice(0, cut + 1) + pem.slice(cut + 20))
    assert.throws(() => loadConfig({ MAIL_TLS_CA_FILE: broken }), /broken\.pem\): certificate 2 of 2 is not usable/)
  })
})
