// Shared set-up of the IMAP backend tests: a backend pointed at the harness Dovecot,
// with its connection factory wrapped so tests can count login attempts and reach clients.
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { ImapFlow } from 'imapflow'
import { createImapBackend } from '../../src/backends/imap/index.ts'
import type { ConnectFn, ImapBackend, ImapBackendOptions } from '../../src/backends/imap/index.ts'
import { openImap } from '../../src/backends/imap/connect.ts'
import type { AccountContext } from '../../src/mail/backend.ts'
import { accountIdOf } from '../../src/mail/ids.ts'
import type { ConnectionSettings, Security } from '../../src/mail/types.ts'
import type { HostGuard } from '../../src/net/host-guard.ts'
import { testEnv } from '../env/shared.ts'
import type { TestEnv } from '../env/shared.ts'

export const env: TestEnv = await testEnv()
export const ca = await readFile(env.dovecot.caFile)

/** The harness runs on loopback, which the real guard refuses by design. */
export const loopbackGuard: HostGuard = async (host) => ({ host, address: '127.0.0.1', family: 4 })

export interface Counted {
  backend: ImapBackend
  /** Connection attempts (each one is a login attempt). */
  attempts: () => number
  /** Clients the backend opened, newest last. */
  clients: ImapFlow[]
}

export function makeBackend (over: Partial<ImapBackendOptions> = {}): Counted {
  let attempts = 0
  const clients: ImapFlow[] = []
  const connect: ConnectFn = async (settings, deps, onClose) => {
    attempts++
    const client = await openImap(settings, deps, onClose)
    clients.push(client)
    return client
  }
  const backend = createImapBackend({
    guard: loopbackGuard,
    tlsCa: ca,
    timeoutMs: 5000,
    maxPerAccount: 3,
    maxTotal: 50,
    connect,
    ...over,
  })
  return { backend, attempts: () => attempts, clients }
}

export function settingsFor (user: { username: string, password: string }, security: Security = 'tls'): ConnectionSettings {
  const port = security === 'tls' ? env.dovecot.ports.imaps : env.dovecot.ports.imap
  return { protocol: 'imap', host: 'localhost', port, security, username: user.username, password: user.password }
}

export function ctxFor (settings: ConnectionSettings): AccountContext {
  return { accountId: accountIdOf(settings), settings }
}

export async function newAccount (prefix: string, security: Security = 'tls'): Promise<{ user: { username: string, password: string }, settings: ConnectionSettings, ctx: AccountContext }> {
  const user = await env.dovecot.createUser(prefix)
  const settings = settingsFor(user, security)
  return { user, settings, ctx: ctxFor(settings) }
}

let serial = 0

/** A small RFC 5322 message with CRLF line ends. */
export function mail (opts: { subject?: string, from?: string, to?: string, body?: string, date?: string, extraHeaders?: string[] } = {}): Buffer {
  const n = ++serial
  const lines = [
    `From: ${opts.from ?? 'Ann Example <ann@example.com>'}`,
    `To: ${opts.to ?? 'Bob <bob@example.com>'}`,
    `Subject: ${opts.subject ?? `message ${n}`}`,
    `Date: ${opts.date ?? 'Sat, 24 Aug 2024 16:30:00 +0200'}`,
    `Message-ID: <m${n}.${process.pid}@example.com>`,
    ...(opts.extraHeaders ?? []),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    opts.body ?? `body of message ${n}`,
    '',
  ]
  return Buffer.from(lines.join('\r\n'))
}

/** A direct imapflow session of the harness (for comparisons), logged out by the caller. */
export async function directClient (user: { username: string, password: string }): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: env.dovecot.ports.imap,
    secure: false,
    doSTARTTLS: false,
    auth: { user: user.username, pass: user.password },
    logger: false,
  })
  client.on('error', () => {})
  await client.connect()
  return client
}

/** A message of exactly `bytes` octets: the body is padded with whole lines to hit it. */
export function mailOfSize (subject: string, bytes: number): Buffer {
  const bare = mail({ subject, body: '' })
  const line = 'x'.repeat(98) + '\r\n'
  const pad = bytes - bare.length
  const body = line.repeat(Math.floor(pad / line.length)) + 'y'.repeat(pad % line.length)
  const raw = mail({ subject, body })
  assert.equal(raw.length, bytes)
  return raw
}
