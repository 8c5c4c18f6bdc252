/**
 * Telling at once that a port speaks something other than what the session
 * asked for, instead of waiting out a greeting timeout:
 *
 * - the first bytes of the connection (after TLS, if any): a TLS record, or the
 *   other protocol's greeting (`* OK` is IMAP, `+OK`/`-ERR` is POP3);
 * - a plain connection whose server says nothing within PROBE_AFTER_MS: an
 *   implicit-TLS port waits for a ClientHello. A second connection then tries a
 *   TLS handshake (nothing is sent over it, no certificate is trusted, it is
 *   closed at once); if the server completes it, the port speaks TLS;
 * - a TLS handshake that failed on the protocol level (not on the certificate):
 *   a second, plain connection reads the greeting, if the port has one.
 *
 * Each verdict names the setting to change ("use security: tls"). Used by both
 * backends; the probes only run when the normal path is already failing.
 */
import net from 'node:net'
import tls from 'node:tls'
import { GatewayError } from '../mail/errors.ts'
import type { Protocol, Security } from '../mail/types.ts'

/** How long a plain connection may stay silent before the port is probed for TLS. */
export const PROBE_AFTER_MS = 1000

export type Speaker = 'tls' | 'imap' | 'pop3' | 'unknown'

export function classify (first: Buffer): Speaker {
  // a TLS record: handshake, alert, change-cipher-spec or data, version 3.x
  if (first.length >= 2 && first[0]! >= 0x14 && first[0]! <= 0x17 && first[1] === 0x03) return 'tls'
  const text = first.subarray(0, 16).toString('latin1')
  if (/^\* (OK|PREAUTH|BYE)\b/i.test(text)) return 'imap'
  if (/^(\+OK|-ERR)\b/.test(text)) return 'pop3'
  return 'unknown'
}

const NAMES: Record<Protocol, string> = { imap: 'IMAP', pop3: 'POP3' }

/** What to tell the caller when `speaker` answered a `protocol` session; null when it fits. */
export function mismatch (protocol: Protocol, security: Security, speaker: Speaker): GatewayError | null {
  let detail: string | null = null
  if (speaker === 'tls' && security !== 'tls') detail = 'the server speaks TLS on this port: use security: tls'
  else if ((speaker === 'imap' || speaker === 'pop3') && speaker !== protocol) {
    detail = `the server speaks ${NAMES[speaker]} on this port, not ${NAMES[protocol]}: use protocol: ${speaker}, or the ${NAMES[protocol]} port`
  }
  return detail === null ? null : new GatewayError('upstream-unavailable', detail)
}

export interface PortTarget {
  address: string
  port: number
  protocol: Protocol
  security: Security
  /** Bound for each probe (ms). */
  timeoutMs: number
}

/** Does the port complete a TLS handshake? (No data is sent; the connection is closed at once.) */
export async function speaksTls (address: string, port: number, timeoutMs: number): Promise<boolean> {
  return await new Promise((resolve) => {
    // nothing is sent over it: the certificate does not matter here, only that a handshake happens
    const socket = tls.connect({ host: address, port, rejectUnauthorized: false })
    const done = (result: boolean): void => { clearTimeout(timer); socket.destroy(); resolve(result) }
    const timer = setTimeout(() => done(false), timeoutMs)
    socket.once('secureConnect', () => done(true))
    socket.once('error', () => done(false))
    socket.once('close', () => done(false))
  })
}

/** Who greets on a plain connection to the port (null: nothing within the bound). */
export async function plainGreeting (address: string, port: number, timeoutMs: number): Promise<Speaker | null> {
  return await new Promise((resolve) => {
    const socket = net.connect({ host: address, port })
    const done = (result: Speaker | null): void => { clearTimeout(timer); socket.destroy(); resolve(result) }
    const timer = setTimeout(() => done(null), timeoutMs)
    socket.once('data', (chunk: Buffer) => done(classify(chunk)))
    socket.once('error', () => done(null))
    socket.once('close', () => done(null))
  })
}

/**
 * Watches a connection from the moment it is up (`readyEvent`): its first bytes,
 * and, on a plain connection, a silence long enough to probe for TLS.
 * `fail` gets the verdict at most once.
 */
export function watchGreeting (socket: net.Socket, readyEvent: 'connect' | 'secureConnect', target: PortTarget, fail: (err: GatewayError) => void): void {
  let settled = false
  const verdict = (err: GatewayError | null): void => {
    if (settled || err === null) return
    settled = true
    fail(err)
  }
  socket.once(readyEvent, () => {
    // on a plain connection, a silence this long gets the port probed for TLS
    const timer = target.security === 'tls'
      ? undefined
      : setTimeout(() => {
        if (settled) return
        speaksTls(target.address, target.port, target.timeoutMs).then(
          (yes) => { if (yes && !socket.destroyed) verdict(mismatch(target.protocol, target.security, 'tls')) },
          () => {})
      }, Math.min(PROBE_AFTER_MS, target.timeoutMs / 2)).unref()
    // first in line: the verdict must come before the client's parser fails on the same bytes
    socket.prependOnceListener('data', (chunk: Buffer) => {
      clearTimeout(timer)
      verdict(mismatch(target.protocol, target.security, classify(chunk)))
      settled = true
    })
    socket.once('close', () => { clearTimeout(timer); settled = true })
  })
}

/** An implicit-TLS handshake that failed on the protocol level: a plain greeting there says why. */
export async function explainTlsFailure (target: PortTarget): Promise<GatewayError | null> {
  const speaker = await plainGreeting(target.address, target.port, Math.min(target.timeoutMs, 5000))
  if (speaker === 'imap' || speaker === 'pop3') {
    const other = speaker === target.protocol ? '' : `, and ${NAMES[speaker]}, not ${NAMES[target.protocol]}`
    return new GatewayError('upstream-unavailable', `the server speaks plain text on this port${other}: use security: starttls or none${other === '' ? '' : `, or the ${NAMES[target.protocol]} TLS port`}`)
  }
  return null
}

/** A TLS failure in the handshake's protocol (wrong version, not TLS at all), not a certificate's. */
export function isHandshakeProtocolError (err: unknown): boolean {
  const code = String((err as { code?: unknown })?.code ?? '')
  const message = String((err as { message?: unknown })?.message ?? '')
  return /^ERR_SSL_(WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|UNKNOWN_PROTOCOL|RECORD_LAYER_FAILURE|HTTP_REQUEST)/.test(code) ||
    /wrong version number|packet length too long|unknown protocol/i.test(message)
}
