/**
 * Connect → greeting → CAPA → (STLS → CAPA) → login → CAPA: a ready session.
 * Every step runs under the connection's timeout; any failure destroys the
 * connection before the error reaches the caller.
 */
import type { Security } from '../../../mail/types.ts'
import { GatewayError } from '../../../mail/errors.ts'
import type { HostGuard } from '../../../net/host-guard.ts'
import { authenticate, type Credentials } from './auth.ts'
import { parseCapa, UNKNOWN_CAPABILITIES, type Pop3Capabilities } from './capa.ts'
import { Pop3Client } from './client.ts'
import { Pop3Connection, type Pop3Logger } from './connection.ts'
import { errorFor } from './status.ts'
import { openSocket } from './transport.ts'
import { explainTlsFailure, isHandshakeProtocolError, watchGreeting, type PortTarget } from '../../port-sniff.ts'

export interface Pop3ConnectOptions extends Credentials {
  guard: HostGuard
  host: string
  port: number
  security: Security
  /** Extra CA bundle for servers with private certificates. */
  tlsCa?: Buffer | null
  /** Connect, greeting, every command and every pause mid-reply (ms). */
  timeoutMs: number
  /** Cap for buffered multi-line replies (CAPA, LIST, UIDL, TOP). */
  maxListBytes?: number
  logger?: Pop3Logger | null
}

const DEFAULT_MAX_LIST_BYTES = 32 * 1024 * 1024

async function capa (conn: Pop3Connection, fallback: Pop3Capabilities): Promise<Pop3Capabilities> {
  const reply = await conn.command('CAPA', { multiline: true, maxBytes: 64 * 1024, barrier: true })
  if (reply.status.kind !== 'ok') return fallback
  return parseCapa((reply.body ?? Buffer.alloc(0)).toString('latin1'))
}

export async function connectPop3 (opts: Pop3ConnectOptions): Promise<Pop3Client> {
  const ca = opts.tlsCa ?? null
  const { socket, readyEvent, host, address } = await openSocket(opts.guard, opts.host, opts.port, opts.security === 'tls', ca)
  const conn = new Pop3Connection(socket, readyEvent, opts.timeoutMs, opts.logger ?? null)
  const target: PortTarget = { address, port: opts.port, protocol: 'pop3', security: opts.security, timeoutMs: opts.timeoutMs }
  watchGreeting(socket, readyEvent, target, (err) => conn.destroy(err))
  try {
    const greeting = await conn.greeting()
    if (greeting.status.kind !== 'ok') throw errorFor(greeting.status, 'greeting', null)
    let caps = await capa(conn, UNKNOWN_CAPABILITIES)
    if (opts.security === 'starttls') {
      const reply = await conn.command('STLS', { barrier: true })
      if (reply.status.kind !== 'ok') {
        throw new GatewayError('upstream-unavailable', 'The POP3 server does not offer STLS')
      }
      await conn.upgrade({ host, ca })
      // RFC 2595 §4: forget what was learnt before TLS.
      caps = await capa(conn, UNKNOWN_CAPABILITIES)
    }
    const method = await authenticate(conn, opts, caps)
    // After login servers list what the session may do (EXPIRE/LOGIN-DELAY may
    // change, RFC 2449 §6); login-only entries (SASL, USER, STLS) come from before.
    const after = await capa(conn, caps)
    const merged: Pop3Capabilities = {
      ...after,
      sasl: after.sasl.length > 0 ? after.sasl : caps.sasl,
      user: after.user || caps.user,
      stls: caps.stls || opts.security === 'starttls',
    }
    opts.logger?.debug({ method, stls: opts.security === 'starttls' }, 'pop3 login')
    return new Pop3Client(conn, merged, method, opts.maxListBytes ?? DEFAULT_MAX_LIST_BYTES)
  } catch (err) {
    conn.destroy(err instanceof GatewayError ? err : new GatewayError('upstream-unavailable', 'POP3 login failed', { cause: err }))
    const cause = err instanceof GatewayError ? err.cause : err
    if (opts.security === 'tls' && isHandshakeProtocolError(cause)) throw (await explainTlsFailure(target)) ?? err
    throw err
  }
}
