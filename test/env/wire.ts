import { connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect, type TLSSocket } from 'node:tls'
import { readFileSync } from 'node:fs'

export interface WireOptions {
  port: number
  host?: string
  /** Implicit TLS, verified against this CA file; servername null verifies the IP instead. */
  tls?: { caFile: string, servername?: string | null }
  /** Source address; the harness uses 127.0.0.2 so its own sessions can be told apart. */
  localAddress?: string
  timeoutMs?: number
}

/**
 * A minimal CRLF line client over TCP or TLS for the harness itself and for protocol-level
 * assertions in tests (POP3 exchanges, STARTTLS checks). Every read has a timeout.
 */
export class Wire {
  private buf = Buffer.alloc(0)
  private waiter: (() => void) | undefined
  private failure: Error | undefined
  private constructor (private socket: Socket | TLSSocket, private readonly timeoutMs: number) {
    this.attach()
  }

  static async open (opts: WireOptions): Promise<Wire> {
    const host = opts.host ?? '127.0.0.1'
    const timeoutMs = opts.timeoutMs ?? 5000
    const socket = await new Promise<Socket | TLSSocket>((resolve, reject) => {
      const base = { port: opts.port, host, localAddress: opts.localAddress }
      const s: Socket | TLSSocket = opts.tls !== undefined
        ? tlsConnect({
          ...base,
          ca: readFileSync(opts.tls.caFile),
          ...(opts.tls.servername === null ? {} : { servername: opts.tls.servername ?? 'localhost' })
        }, () => resolve(s))
        : netConnect(base, () => resolve(s))
      s.once('error', reject)
      s.setTimeout(timeoutMs, () => s.destroy(new Error(`connect to ${host}:${opts.port} timed out`)))
    })
    socket.setTimeout(0)
    socket.removeAllListeners('error')
    return new Wire(socket, timeoutMs)
  }

  get tlsSocket (): TLSSocket | undefined {
    return 'encrypted' in this.socket ? this.socket : undefined
  }

  private attach (): void {
    this.socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk])
      this.waiter?.()
    })
    this.socket.on('error', (err) => { this.failure = err; this.waiter?.() })
    this.socket.on('close', () => { this.failure ??= new Error('connection closed'); this.waiter?.() })
  }

  /** Waits for more data; throws on a failed connection or after the deadline. */
  private async more (deadline: number): Promise<void> {
    if (this.failure !== undefined) throw this.failure
    const left = deadline - Date.now()
    if (left <= 0) throw new Error('read timed out')
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, left)
      this.waiter = () => { clearTimeout(t); this.waiter = undefined; resolve() }
    })
  }

  /** Next line without its CRLF. */
  async readLine (): Promise<string> {
    const deadline = Date.now() + this.timeoutMs
    for (;;) {
      const i = this.buf.indexOf('\r\n')
      if (i >= 0) {
        const line = this.buf.subarray(0, i).toString('latin1')
        this.buf = this.buf.subarray(i + 2)
        return line
      }
      await this.more(deadline)
    }
  }

  /** Exactly `n` raw bytes (an IMAP literal). */
  async readBytes (n: number): Promise<Buffer> {
    const deadline = Date.now() + this.timeoutMs
    while (this.buf.length < n) {
      await this.more(deadline)
    }
    const out = this.buf.subarray(0, n)
    this.buf = this.buf.subarray(n)
    return out
  }

  /** Reads lines until one matches, returning all of them (the match last). */
  async readUntil (match: (line: string) => boolean): Promise<string[]> {
    const lines: string[] = []
    for (;;) {
      const line = await this.readLine()
      lines.push(line)
      if (match(line)) return lines
    }
  }

  write (data: string | Buffer): void {
    this.socket.write(data)
  }

  /** Sends a line and returns the reply lines up to (and including) the one that matches. */
  async command (line: string, match: (line: string) => boolean): Promise<string[]> {
    this.write(line + '\r\n')
    return await this.readUntil(match)
  }

  /** Upgrades the connection after a STARTTLS/STLS go-ahead. */
  async startTls (caFile: string, servername = 'localhost'): Promise<void> {
    const plain = this.socket
    plain.removeAllListeners('data')
    plain.removeAllListeners('error')
    plain.removeAllListeners('close')
    this.socket = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ socket: plain, ca: readFileSync(caFile), servername }, () => resolve(s))
      s.once('error', reject)
    })
    this.socket.removeAllListeners('error')
    this.buf = Buffer.alloc(0)
    this.failure = undefined
    this.attach()
  }

  close (): void {
    this.socket.destroy()
  }
}
