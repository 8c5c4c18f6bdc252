/**
 * The gateway dials the address its host guard checked, never the name again
 * (the DNS-rebinding defence), for IMAP and POP3, plain and TLS: the guard
 * maps `x.invalid`, a name that resolves nowhere (RFC 6761), to the harness
 * Dovecot, so any second resolution of the name fails the login.
 *
 * Dovecot's certificate is for localhost, so TLS goes through a loopback TLS
 * terminator whose certificate is for x.invalid, piping to Dovecot's plain port.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { lookup } from 'node:dns/promises'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer as createTlsServer, type Server } from 'node:tls'
import { createImapBackend } from '../../src/backends/imap/index.ts'
import { createPop3Backend } from '../../src/backends/pop3/index.ts'
import type { Capabilities, ConnectionSettings, Protocol, Security } from '../../src/mail/types.ts'
import type { HostGuard } from '../../src/net/host-guard.ts'
import { makeCerts } from '../env/certs.ts'
import { testEnv } from '../env/shared.ts'

const NAME = 'x.invalid'

/** Checks only NAME, and answers with the harness address. */
const guard: HostGuard = async (host) => {
  if (host !== NAME) throw new Error(`the guard was asked about ${host}`)
  return { host, address: '127.0.0.1', family: 4 }
}

/** A TLS terminator on loopback (certificate for NAME) in front of a plain port. */
async function tlsTerminator (cert: { certFile: string, keyFile: string }, plainPort: number): Promise<{ server: Server, port: number, sockets: Set<Socket> }> {
  const sockets = new Set<Socket>()
  const server = createTlsServer({ cert: await readFile(cert.certFile), key: await readFile(cert.keyFile) }, (front) => {
    const back = netConnect(plainPort, '127.0.0.1')
    for (const s of [front, back]) {
      sockets.add(s)
      s.on('error', () => { front.destroy(); back.destroy() })
      s.on('close', () => { sockets.delete(s); front.destroy(); back.destroy() })
    }
    front.pipe(back).pipe(front)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as AddressInfo).port, sockets }
}

describe('the gateway dials the address its host guard checked', () => {
  let dir: string
  let ca: Buffer
  const terminators: Array<Awaited<ReturnType<typeof tlsTerminator>>> = []
  const ports: Record<Protocol, Record<'none' | 'tls', number>> = { imap: { none: 0, tls: 0 }, pop3: { none: 0, tls: 0 } }
  let user: { username: string, password: string }
  const backends: Array<{ close: () => Promise<void> }> = []

  before(async () => {
    const env = await testEnv()
    dir = await mkdtemp(join(tmpdir(), 'mgw-dial-'))
    const cert = await makeCerts(dir, `DNS:${NAME}`)
    ca = await readFile(cert.caFile)
    for (const protocol of ['imap', 'pop3'] as const) {
      const plain = env.dovecot.ports[protocol]
      const t = await tlsTerminator(cert, plain)
      terminators.push(t)
      ports[protocol] = { none: plain, tls: t.port }
    }
    user = await env.dovecot.createUser('dial')
  })

  after(async () => {
    await Promise.all(backends.map(b => b.close()))
    for (const t of terminators) {
      for (const s of t.sockets) s.destroy()
      await new Promise(resolve => t.server.close(resolve))
    }
    await rm(dir, { recursive: true, force: true })
  })

  it(`${NAME} resolves nowhere (so only the checked address can reach the server)`, async () => {
    await assert.rejects(lookup(NAME))
  })

  const login = async (protocol: Protocol, security: Security): Promise<Capabilities> => {
    const backend = protocol === 'imap'
      ? createImapBackend({ guard, tlsCa: ca, timeoutMs: 5000, maxPerAccount: 1, maxTotal: 4 })
      : createPop3Backend({ guard, tlsCa: ca, timeoutMs: 5000, idleQuitMs: 50 })
    backends.push(backend)
    const settings: ConnectionSettings = { protocol, host: NAME, port: ports[protocol][security === 'tls' ? 'tls' : 'none'], security, username: user.username, password: user.password }
    return await backend.login(settings)
  }

  for (const security of ['none', 'tls'] as const) {
    it(`IMAP over ${security}`, async () => {
      assert.equal((await login('imap', security)).mailboxes, true)
    })

    it(`POP3 over ${security}`, async () => {
      assert.equal((await login('pop3', security)).uidl, true)
    })
  }
})
