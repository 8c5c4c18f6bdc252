/**
 * One POP3 connection: the command queue, the response reader and the timeouts
 * (inactivity, and a deadline per reply that is not streamed). Commands go out
 * one at a time; with `pipelining` on (only when CAPA offers PIPELINING) up to
 * PIPELINE_WINDOW are in flight, replies matched in order (RFC 2449 §6.6).
 * Multi-line replies are buffered (bounded) or streamed with backpressure.
 * Any protocol violation, socket error or timeout kills the connection and
 * fails every pending command: a half-understood connection is never reused.
 */
import type net from 'node:net'
import { GatewayError } from '../../../mail/errors.ts'
import { closeBody, failPending, openBody, type CommandOptions, type Pending, type Pop3Logger, type Reply } from './pending.ts'
import { operationTimeoutMs } from '../../../util/operation-timeout.ts'
import { ReplyTimer } from './reply-timer.ts'
import { LineReader, parseStatus } from './status.ts'
import { socketError, upgradeSocket, type TlsSettings } from './transport.ts'

export type { CommandOptions, Pop3Logger, Reply } from './pending.ts'

const PIPELINE_WINDOW = 32
const MAX_STATUS_LINE = 8192

export class Pop3Connection {
  pipelining = false
  private socket: net.Socket
  private readonly logger: Pop3Logger | null
  private readonly lines = new LineReader(MAX_STATUS_LINE)
  private readonly queue: Pending[] = []
  private readonly inflight: Pending[] = []
  private readonly timer: ReplyTimer
  private consumerPaused = false
  private halted = false
  private closedError: GatewayError | null = null

  /** Takes a connecting socket; the greeting is the first reply awaited. */
  constructor (socket: net.Socket, readyEvent: 'connect' | 'secureConnect', timeoutMs: number, logger: Pop3Logger | null) {
    this.socket = socket
    this.timer = new ReplyTimer(timeoutMs, operationTimeoutMs(timeoutMs), () => {
      const head = this.inflight[0]
      this.destroy(new GatewayError('upstream-timeout', `The POP3 server did not answer ${head?.label ?? ''} in time`.trim()))
    })
    this.logger = logger
    this.attach(socket)
    socket.once(readyEvent, () => this.refreshTimer())
  }

  get closed (): boolean {
    return this.closedError !== null
  }

  /** Waits for the server greeting (first reply on the connection). */
  greeting (): Promise<Reply> {
    return this.enqueue(null, { label: 'greeting', barrier: true })
  }

  command (line: string, opts: CommandOptions = {}): Promise<Reply> {
    if (/[\r\n]/.test(line)) return Promise.reject(new GatewayError('bad-request', 'Invalid POP3 command argument'))
    return this.enqueue(line, opts)
  }

  /** STLS accepted: wrap the socket in TLS and wait for the handshake. */
  async upgrade (settings: TlsSettings): Promise<void> {
    const raw = this.socket
    this.detach(raw)
    raw.on('error', () => {})
    const secure = upgradeSocket(raw, settings)
    this.socket = secure
    this.attach(secure)
    await new Promise<void>((resolve, reject) => {
      const pending: Pending = { line: null, label: 'STLS handshake', resolve: () => resolve(), reject }
      this.inflight.push(pending)
      this.refreshTimer()
      secure.once('secureConnect', () => {
        this.inflight.shift()
        this.halted = false
        this.refreshTimer()
        resolve()
        this.pump()
      })
    })
  }

  /** Closes after QUIT (or without it, when asked): no error is reported. */
  end (): void {
    if (this.closed) return
    this.closedError = new GatewayError('upstream-unavailable', 'POP3 connection closed')
    this.timer.clear()
    this.failAll(this.closedError)
    this.socket.end()
    this.socket.destroySoon()
    setTimeout(() => this.socket.destroy(), 1000).unref()
  }

  /** Kills the connection, failing everything pending with `err`. */
  destroy (err: GatewayError): void {
    if (this.closed) return
    this.closedError = err
    this.timer.clear()
    this.socket.destroy()
    this.failAll(err)
  }

  private enqueue (line: string | null, opts: CommandOptions): Promise<Reply> {
    if (this.closedError !== null) return Promise.reject(this.closedError)
    return new Promise((resolve, reject) => {
      const label = opts.label ?? line?.split(' ')[0]?.toUpperCase() ?? 'greeting'
      this.queue.push({ ...opts, line, label, resolve, reject })
      this.pump()
    })
  }

  private pump (): void {
    while (this.queue.length > 0 && !this.closed && !this.halted) {
      const next = this.queue[0] as Pending
      if (this.inflight.length > 0) {
        const canPipeline = this.pipelining && next.barrier !== true && this.inflight.length < PIPELINE_WINDOW &&
          !this.inflight.some(p => p.barrier === true)
        if (!canPipeline) break
      }
      this.queue.shift()
      if (this.inflight.length === 0) this.timer.begin()
      this.inflight.push(next)
      if (next.line !== null) {
        this.logger?.debug({ command: next.label }, 'pop3 command')
        this.socket.write(next.line + '\r\n')
      }
      this.refreshTimer()
    }
  }

  private attach (socket: net.Socket): void {
    socket.on('data', this.onData)
    socket.on('error', this.onError)
    socket.on('close', this.onClose)
  }

  private detach (socket: net.Socket): void {
    socket.off('data', this.onData)
    socket.off('error', this.onError)
    socket.off('close', this.onClose)
  }

  private readonly onError = (err: Error): void => { this.destroy(socketError(err)) }
  private readonly onClose = (): void => {
    this.destroy(new GatewayError('upstream-unavailable', 'The POP3 server closed the connection'))
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.closed) return
    try {
      this.refreshTimer()
      const head = this.inflight[0]
      if (head !== undefined && head.out === undefined && this.timer.overdue()) {
        throw new GatewayError('upstream-timeout', `The POP3 server did not finish answering ${head.label} in time`)
      }
      let rest: Buffer | undefined = chunk
      while (rest !== undefined && rest.length > 0 && !this.closed) rest = this.consume(rest)
    } catch (err) {
      this.destroy(err instanceof GatewayError ? err : new GatewayError('upstream-unavailable', 'POP3 protocol error', { cause: err }))
    }
  }

  /** Consumes bytes for the reply at the head of the in-flight list; returns what is left. */
  private consume (chunk: Buffer): Buffer | undefined {
    const head = this.inflight[0]
    if (head === undefined || this.halted) {
      throw new GatewayError('upstream-unavailable', 'The POP3 server sent data nobody asked for')
    }
    if (head.decoder !== undefined) {
      const rest = head.decoder.feed(chunk)
      if (rest !== undefined) this.finishBody(head)
      return rest
    }
    const got = this.lines.feed(chunk)
    if (got === undefined) return undefined
    const [line, rest] = got
    const status = parseStatus(line)
    if (status.kind === 'ok' && head.multiline === true) {
      openBody(head, status, {
        pause: () => this.pauseForConsumer(),
        read: () => this.resumeForConsumer(),
        destroyed: () => this.abortStream(head),
      })
      return rest
    }
    // After STLS and QUIT nothing may follow (RFC 2595 §4: no plaintext injection).
    // Checked while the command is still in flight, so the failure reaches its caller.
    if (status.kind === 'ok' && (head.line === 'STLS' || head.line === 'QUIT')) {
      if (rest.length > 0) throw new GatewayError('upstream-unavailable', 'The POP3 server sent data after STLS/QUIT')
      this.halted = true
    }
    this.inflight.shift()
    head.resolve({ status, body: null, stream: null })
    this.afterReply()
    return rest
  }

  private finishBody (head: Pending): void {
    closeBody(head)
    this.inflight.shift()
    this.afterReply()
  }

  private afterReply (): void {
    this.timer.begin()
    this.consumerPaused = false
    this.socket.resume()
    this.refreshTimer()
    this.pump()
  }

  private abortStream (head: Pending): void {
    if (!this.inflight.includes(head) || head.discard === true) return
    const drain = head.drainOnAbort?.() ?? (this.queue.length > 0 || this.inflight.length > 1)
    if (drain) {
      head.discard = true
      this.resumeForConsumer()
    } else {
      this.destroy(new GatewayError('upstream-unavailable', 'POP3 download aborted'))
    }
  }

  private pauseForConsumer (): void {
    if (this.consumerPaused) return
    this.consumerPaused = true
    this.socket.pause()
    this.timer.clear()
  }

  private resumeForConsumer (): void {
    if (!this.consumerPaused || this.closed) return
    this.consumerPaused = false
    this.socket.resume()
    this.refreshTimer()
  }

  private failAll (err: GatewayError): void {
    const all = [...this.inflight, ...this.queue]
    this.inflight.length = 0
    this.queue.length = 0
    for (const p of all) failPending(p, err)
  }

  private refreshTimer (): void {
    this.timer.refresh(!this.closed && this.inflight.length > 0 && !this.consumerPaused)
  }
}
