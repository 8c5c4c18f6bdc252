/**
 * imapflow / socket / pool failures → GatewayError (contract §4).
 * Details are fixed texts: nothing the server sent (or a credential) reaches a caller.
 */
import type { ImapFlowError } from 'imapflow'
import { GatewayError, isGatewayError } from '../../mail/errors.ts'
import { PoolClosedError, PoolTimeoutError } from '../../pool/index.ts'
import { refusalOf } from './wire-names.ts'

const TIMEOUT_CODES = new Set(['CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'UPGRADE_TIMEOUT', 'ETIMEOUT', 'ETIMEDOUT', 'LockTimeout'])

/** The connection went away under a command: nothing about the request itself was wrong. */
const DROP_CODES = new Set([
  'NoConnection', 'EConnectionClosed', 'StateLogout', 'ClosedAfterConnectText', 'ClosedAfterConnectTLS',
  'ECONNRESET', 'EPIPE', 'ECONNABORTED',
])

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL'])

const TOO_LARGE_CODES = new Set(['LineTooLarge', 'LiteralTooLarge', 'ResponseTooLarge', 'TooManyTokens', 'TooManyResponses'])

/**
 * The server answered a command with a refusal (NO/BAD), or the request went past
 * a limit of the gateway's own: the request fails (upstream-unavailable), but the
 * connection is in a clean state and goes back to the pool.
 */
export class UpstreamRefusal extends Error {
  override readonly name = 'UpstreamRefusal'
}

function fields (err: unknown): ImapFlowError {
  return (typeof err === 'object' && err !== null ? err : {}) as ImapFlowError
}

function isTlsFailure (e: ImapFlowError): boolean {
  const code = e.code ?? ''
  return e.tlsFailed === true || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') ||
    /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO|HOSTNAME_MISMATCH|ERR_OSSL/.test(code)
}

/** True when the failure is a dropped connection (the request may be retried on a new one). */
export function isConnectionDrop (err: unknown): boolean {
  if (isGatewayError(err)) return false
  return DROP_CODES.has(fields(err).code ?? '')
}

/** True when the connection that produced this failure must not be reused. */
export function isConnectionFatal (err: unknown): boolean {
  if (isGatewayError(err)) return err.code === 'upstream-timeout' || err.code === 'upstream-unavailable'
  const e = fields(err)
  const code = e.code ?? ''
  return DROP_CODES.has(code) || TIMEOUT_CODES.has(code) || TOO_LARGE_CODES.has(code) ||
    code.startsWith('ParserError') || isTlsFailure(e)
}

export function toGatewayError (err: unknown): GatewayError {
  if (isGatewayError(err)) return err
  const cause = { cause: err }
  if (err instanceof PoolTimeoutError) return new GatewayError('upstream-timeout', 'no connection to the mail server became free in time', cause)
  if (err instanceof PoolClosedError) return new GatewayError('upstream-unavailable', 'the gateway is shutting down', cause)
  const e = fields(err)
  const code = e.code ?? ''
  if (err instanceof UpstreamRefusal) return new GatewayError('upstream-unavailable', err.message, cause)
  const response = (e.serverResponseCode ?? '').toUpperCase()
  // imapflow flags any NO to LOGIN/AUTHENTICATE as authenticationFailed; the response
  // code says when the server was throttling or unwell rather than refusing the credentials
  // (RFC 5530), and only a real refusal may be remembered as one.
  if (code === 'ETHROTTLE' || response === 'THROTTLED' || response === 'LIMIT') {
    const retryAfter = typeof e.throttleReset === 'number' ? Math.max(1, Math.ceil(e.throttleReset / 1000)) : 5
    return new GatewayError('rate-limited', 'the mail server is throttling this account', { ...cause, retryAfter })
  }
  if (response === 'UNAVAILABLE' || response === 'SERVERBUG' || response === 'INUSE') {
    return new GatewayError('upstream-unavailable', 'the mail server is unavailable', cause)
  }
  if (e.authenticationFailed === true) return new GatewayError('auth-failed', 'the mail server rejected the login', cause)
  // a tagged NO whose response code the catalogue names (CANNOT, OVERQUOTA, ALREADYEXISTS, TOOBIG…), on any command
  const refused = refusalOf(err)
  if (refused !== null) return refused
  if (TIMEOUT_CODES.has(code)) return new GatewayError('upstream-timeout', 'the mail server did not answer in time', cause)
  if (e.mailboxMissing === true || response === 'NONEXISTENT') return new GatewayError('not-found', 'no such mailbox', cause)
  if (isTlsFailure(e)) return new GatewayError('upstream-unavailable', 'TLS with the mail server failed', cause)
  if (UNREACHABLE_CODES.has(code)) return new GatewayError('upstream-unavailable', 'cannot connect to the mail server', cause)
  if (DROP_CODES.has(code)) return new GatewayError('upstream-unavailable', 'the connection to the mail server was lost', cause)
  if (TOO_LARGE_CODES.has(code)) return new GatewayError('upstream-unavailable', 'the mail server sent an oversized response', cause)
  return new GatewayError('upstream-unavailable', 'the mail server failed the request', cause)
}
