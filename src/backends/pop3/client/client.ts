/**
 * A logged-in POP3 session (TRANSACTION state, RFC 1939 §5): the commands the
 * gateway uses, with replies parsed into numbers and Buffers. Message bodies
 * are bytes end to end; RETR is streamed.
 */
import type { Readable } from 'node:stream'
import { GatewayError } from '../../../mail/errors.ts'
import type { Pop3Capabilities } from './capa.ts'
import type { Pop3Connection, Reply } from './connection.ts'
import { errorFor } from './status.ts'

export interface UidlEntry {
  n: number
  uid: string
}

export interface RetrOptions {
  /** Cap on the streamed body; over it the stream errors and the connection is dropped. */
  maxBytes?: number
  /** The size LIST reported: a CRLF the server added beyond it is dropped (see body.ts). */
  exactSize?: number
  /** With exactSize: any other size makes the stream fail (a Content-Length was promised). */
  strictSize?: boolean
  /** When the stream is destroyed early: true = drain the rest (keep the connection), false = drop it. */
  drainOnAbort?: () => boolean
}

// numbers of at most 15 digits stay exact in a double (< 2^53): a longer one is a malformed reply
const UIDL_RE = /^(\d{1,15}) ([\x21-\x7e]{1,70})$/
/** STAT's reply and each LIST line: a number and an octet count (optionally followed by more, RFC 1939 §5). */
const COUNT_SIZE_RE = /^(\d{1,15}) (\d{1,15})(?:\s|$)/
/**
 * Messages a maildrop may list. The reply's byte cap alone let a server send two
 * million minimal lines, about 240 MiB of parsed entries per session.
 */
export const MAX_MAILDROP_MESSAGES = 200_000

const TOP_KEEP_BYTES = 1024 * 1024

export class Pop3Client {
  readonly capabilities: Pop3Capabilities
  /** How the login was done: "PLAIN", "USER", "XOAUTH2", "OAUTHBEARER". */
  readonly authMethod: string
  private readonly conn: Pop3Connection
  private readonly maxListBytes: number
  #marked = 0
  #retrieved = 0

  constructor (conn: Pop3Connection, capabilities: Pop3Capabilities, authMethod: string, maxListBytes: number) {
    this.conn = conn
    this.capabilities = capabilities
    this.authMethod = authMethod
    this.maxListBytes = maxListBytes
    conn.pipelining = capabilities.pipelining
  }

  get closed (): boolean {
    return this.conn.closed
  }

  /** Messages marked with DELE and not unmarked by RSET in this session. */
  get marked (): number {
    return this.#marked
  }

  /** Messages retrieved (RETR) in this session. */
  get retrieved (): number {
    return this.#retrieved
  }

  private async ok (line: string, multiline = false, maxBytes = this.maxListBytes, truncateAt?: number): Promise<Reply> {
    const reply = await this.conn.command(line, { multiline, maxBytes, ...(truncateAt === undefined ? {} : { truncateAt }) })
    if (reply.status.kind !== 'ok') throw errorFor(reply.status, 'command', this.capabilities.loginDelay)
    return reply
  }

  /** A listing's lines (LIST, UIDL), refused before they are split when there are too many. */
  private async lines (line: string): Promise<string[]> {
    const body = (await this.ok(line, true)).body ?? Buffer.alloc(0)
    let count = 0
    for (let at = body.indexOf(0x0a); at !== -1 && count <= MAX_MAILDROP_MESSAGES; at = body.indexOf(0x0a, at + 1)) count++
    if (count > MAX_MAILDROP_MESSAGES) {
      throw new GatewayError('upstream-unavailable', `The POP3 maildrop lists more than ${MAX_MAILDROP_MESSAGES} messages, more than the gateway reads`)
    }
    return body.toString('latin1').split('\r\n').filter(l => l !== '')
  }

  /** STAT: message count and total octets. */
  async stat (): Promise<{ count: number, size: number }> {
    const { status } = await this.ok('STAT')
    const m = COUNT_SIZE_RE.exec(status.text)
    if (m === null) throw new GatewayError('upstream-unavailable', 'The POP3 server sent a malformed STAT reply')
    return { count: Number(m[1]), size: Number(m[2]) }
  }

  /** LIST: octets of every message, by message number. */
  async list (): Promise<Map<number, number>> {
    const sizes = new Map<number, number>()
    for (const line of await this.lines('LIST')) {
      const m = COUNT_SIZE_RE.exec(line)
      if (m === null) throw new GatewayError('upstream-unavailable', 'The POP3 server sent a malformed LIST reply')
      sizes.set(Number(m[1]), Number(m[2]))
    }
    return sizes
  }

  /** UIDL: the unique id of every message, in message-number order. */
  async uidl (): Promise<UidlEntry[]> {
    const out: UidlEntry[] = []
    for (const line of await this.lines('UIDL')) {
      const m = UIDL_RE.exec(line)
      if (m === null) throw new GatewayError('upstream-unavailable', 'The POP3 server sent a malformed UIDL reply')
      out.push({ n: Number(m[1]), uid: m[2] as string })
    }
    return out.sort((a, b) => a.n - b.n)
  }

  /** TOP n lines: the header block and the first `lines` body lines, as bytes. */
  async top (n: number, lines: number): Promise<Buffer> {
    // Only the first MiB is kept (the normaliser reads no more of a header block), so a
    // message with a huge header block (hostile mail) cannot fail its page; past
    // maxListBytes the reply is refused (a hostile server).
    return (await this.ok(`TOP ${int(n)} ${int(lines)}`, true, this.maxListBytes, TOP_KEEP_BYTES)).body ?? Buffer.alloc(0)
  }

  /** RETR n, streamed with backpressure; resolves once the server said +OK. */
  async retr (n: number, opts: RetrOptions = {}): Promise<Readable> {
    const reply = await this.conn.command(`RETR ${int(n)}`, { multiline: true, stream: true, ...opts })
    if (reply.status.kind !== 'ok' || reply.stream === null) {
      throw errorFor(reply.status, 'command', this.capabilities.loginDelay)
    }
    this.#retrieved++
    return reply.stream
  }

  async dele (n: number): Promise<void> {
    await this.ok(`DELE ${int(n)}`)
    this.#marked++
  }

  async rset (): Promise<void> {
    await this.ok('RSET')
    this.#marked = 0
  }

  async noop (): Promise<void> {
    await this.ok('NOOP')
  }

  /**
   * QUIT: the server enters the UPDATE state and removes the messages marked
   * (RFC 1939 §6). Resolves only on its +OK; rejects when the connection was
   * already gone, failed first or the server answered -ERR (some marked
   * messages may not have been removed). The connection ends either way. What
   * to mark, and whether to QUIT at all, is the session's policy (session.ts).
   */
  async quit (): Promise<void> {
    if (this.conn.closed) throw new GatewayError('upstream-unavailable', 'The POP3 connection closed before QUIT')
    try {
      const reply = await this.conn.command('QUIT', { barrier: true })
      if (reply.status.kind !== 'ok') throw errorFor(reply.status, 'command', this.capabilities.loginDelay)
    } finally {
      this.conn.end()
    }
  }

  /** Ends the connection without QUIT (no UPDATE state: nothing is deleted). */
  end (): void {
    this.conn.end()
  }

  /** Drops the connection at once (no UPDATE state: nothing is deleted). */
  destroy (): void {
    this.conn.destroy(new GatewayError('upstream-unavailable', 'POP3 connection closed'))
  }
}

function int (n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new GatewayError('bad-request', 'Invalid POP3 message number')
  return n
}
