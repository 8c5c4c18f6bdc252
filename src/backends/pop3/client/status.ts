/**
 * POP3 status lines (RFC 1939 §3) with extended response codes (RFC 2449 §8)
 * and SASL continuations (RFC 5034 §4), and the line reader that assembles
 * them from chunks.
 */
import { GatewayError } from '../../../mail/errors.ts'

export interface StatusLine {
  kind: 'ok' | 'err' | 'cont'
  /** Upper-cased response code without brackets, e.g. "IN-USE", "SYS/TEMP". */
  code: string | null
  /** The text after the indicator (and code), latin1-decoded, trimmed. */
  text: string
}

export function parseStatus (line: string): StatusLine {
  let kind: StatusLine['kind']
  let rest: string
  if (line.startsWith('+OK')) {
    kind = 'ok'
    rest = line.slice(3)
  } else if (line.startsWith('-ERR')) {
    kind = 'err'
    rest = line.slice(4)
  } else if (line === '+' || line.startsWith('+ ')) {
    return { kind: 'cont', code: null, text: line.slice(2) }
  } else {
    throw new GatewayError('upstream-unavailable', 'POP3 server sent a malformed response line')
  }
  if (rest !== '' && !rest.startsWith(' ')) {
    throw new GatewayError('upstream-unavailable', 'POP3 server sent a malformed response line')
  }
  rest = rest.trim()
  let code: string | null = null
  const m = /^\[([^\]]{1,64})\]\s*/.exec(rest)
  if (m !== null) {
    code = (m[1] ?? '').toUpperCase()
    rest = rest.slice(m[0].length)
  }
  return { kind, code, text: rest }
}

/**
 * Collects one CRLF-terminated line across chunks. Bare LF is accepted as the
 * end of a status line (no content can be lost there). Lines longer than
 * `maxBytes` are a protocol error, so a hostile server cannot grow memory.
 */
export class LineReader {
  private pending: Buffer | null = null
  private readonly maxBytes: number

  constructor (maxBytes: number) {
    this.maxBytes = maxBytes
  }

  /** Returns [line, rest] once a line is complete, else undefined (bytes kept). */
  feed (chunk: Buffer): [string, Buffer] | undefined {
    const buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk])
    const lf = buf.indexOf(10)
    if (lf === -1) {
      if (buf.length > this.maxBytes) {
        throw new GatewayError('upstream-unavailable', 'POP3 server sent an over-long response line')
      }
      this.pending = buf
      return undefined
    }
    this.pending = null
    if (lf > this.maxBytes) {
      throw new GatewayError('upstream-unavailable', 'POP3 server sent an over-long response line')
    }
    const end = lf > 0 && buf[lf - 1] === 13 ? lf - 1 : lf
    return [buf.toString('latin1', 0, end), buf.subarray(lf + 1)]
  }

  get empty (): boolean {
    return this.pending === null
  }
}

/** Server text made safe to keep for the log: printable ASCII, bounded. */
export function safeText (text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 160)
}

/**
 * Maps a -ERR reply to the gateway's catalogue. `phase` says whether the reply
 * answered a login step, where a bare -ERR means rejected credentials. The
 * server's text never becomes the caller's detail: it may name server internals
 * (hosts, paths, database errors), or echo a login step's PASS or AUTH. It stays
 * on the error (`cause`, `serverText`) for the log.
 */
export function errorFor (status: StatusLine, phase: 'greeting' | 'auth' | 'command', loginDelay: number | null, respCodes = false): GatewayError {
  const text = safeText(status.text)
  switch (status.code) {
    case 'IN-USE':
      return new GatewayError('mailbox-locked', 'The POP3 maildrop is in use by another client', { retryAfter: 2 })
    case 'LOGIN-DELAY':
      return new GatewayError('rate-limited', 'The POP3 server refuses logins this soon after the last one', {
        // the server's LOGIN-DELAY, but not beyond an hour (Retry-After: 999999999 helps nobody)
        retryAfter: loginDelay !== null && loginDelay > 0 ? Math.min(loginDelay, 3600) : 60,
      })
    case 'AUTH':
      return new Pop3LoginRejected(true)
    case 'SYS/TEMP':
    case 'SYS/PERM':
      // after a login step the text may echo PASS or AUTH: not even the log keeps it
      return new GatewayError('upstream-unavailable', phase === 'auth' ? 'POP3 server error during login' : 'POP3 server error', phase === 'auth' ? {} : { cause: new Error(text) })
  }
  // a server with RESP-CODES would have said [IN-USE] or [SYS/…] for anything but the credentials
  if (phase === 'auth') return new Pop3LoginRejected(respCodes && status.code === null)
  if (phase === 'greeting') return new GatewayError('upstream-unavailable', 'The POP3 server refused the connection', { cause: new Error(text) })
  return new Pop3CommandError(text)
}

/**
 * A -ERR to a login step. `credentials`: the server said so ([AUTH], RFC 3206),
 * or it announced RESP-CODES and gave no code (a lock or an outage would have
 * had one). A bare -ERR from a server without response codes may also mean
 * "locked" or "try later", so it is not remembered against the password.
 */
export class Pop3LoginRejected extends GatewayError {
  constructor (readonly credentials: boolean) {
    super('auth-failed', 'The POP3 server rejected the login')
  }
}

/** A -ERR to an ordinary command: the connection stays usable. */
export class Pop3CommandError extends GatewayError {
  readonly serverText: string
  constructor (serverText: string) {
    super('upstream-unavailable', 'The POP3 server refused the command')
    this.serverText = serverText
  }
}
