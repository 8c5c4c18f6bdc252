/**
 * Opening sockets to a POP3 server: through the host guard (connect to the
 * checked address, never the name again), implicit TLS or plain, and the
 * STLS upgrade (RFC 2595 §4). Socket and TLS failures become GatewayErrors.
 */
import net from 'node:net'
import tls from 'node:tls'
import { GatewayError } from '../../../mail/errors.ts'
import type { HostGuard } from '../../../net/host-guard.ts'
import { trustContext } from '../../../net/tls-trust.ts'

export interface TlsSettings {
  /** Name to verify the certificate against (the caller's host). */
  host: string
  /** Extra CA bundle (MAIL_TLS_CA_FILE); added to the system roots. */
  ca: Buffer | null
}

export function tlsOptions (settings: TlsSettings): tls.ConnectionOptions {
  return {
    servername: net.isIP(settings.host) === 0 ? settings.host : undefined,
    secureContext: trustContext(settings.ca),
    rejectUnauthorized: true,
    // Verify the name the caller gave even though we connect to an address.
    checkServerIdentity: (_name, cert) => tls.checkServerIdentity(settings.host, cert),
  }
}

export interface OpenedSocket {
  socket: net.Socket
  /** The event that means "ready for the greeting". */
  readyEvent: 'connect' | 'secureConnect'
  /** The host name as the guard checked it (ASCII): the name to verify a certificate against. */
  host: string
  /** The address dialled. */
  address: string
}

/** Resolves through the guard and starts connecting; errors surface as socket 'error'. */
export async function openSocket (guard: HostGuard, host: string, port: number, implicitTls: boolean, ca: Buffer | null): Promise<OpenedSocket> {
  const target = await guard(host)
  if (implicitTls) {
    const socket = tls.connect({ host: target.address, port, ...tlsOptions({ host: target.host, ca }) })
    return { socket, readyEvent: 'secureConnect', host: target.host, address: target.address }
  }
  const socket = net.connect({ host: target.address, port })
  return { socket, readyEvent: 'connect', host: target.host, address: target.address }
}

/** Wraps a connected plain socket in TLS (after `+OK` to STLS). */
export function upgradeSocket (raw: net.Socket, settings: TlsSettings): tls.TLSSocket {
  return tls.connect({ socket: raw, ...tlsOptions(settings) })
}

const TLS_CODE = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO|HOSTNAME|ALTNAME|ERR_TLS|EPROTO/

/** A socket/TLS error as the gateway reports it (no addresses, no internals). */
export function socketError (err: unknown): GatewayError {
  if (err instanceof GatewayError) return err
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : ''
  if (code === 'ETIMEDOUT') {
    return new GatewayError('upstream-timeout', 'Timed out connecting to the POP3 server', { cause: err })
  }
  if (TLS_CODE.test(code)) {
    return new GatewayError('upstream-unavailable', `TLS with the POP3 server failed (${code})`, { cause: err })
  }
  if (code === 'ECONNREFUSED') {
    return new GatewayError('upstream-unavailable', 'The POP3 server refused the connection', { cause: err })
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return new GatewayError('upstream-unavailable', 'The POP3 server dropped the connection', { cause: err })
  }
  return new GatewayError('upstream-unavailable', `Cannot reach the POP3 server${code === '' ? '' : ` (${code})`}`, { cause: err })
}
