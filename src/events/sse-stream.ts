/**
 * One open `GET /v1/events` stream: filters the account's events, writes
 * them in order, and ends for a reason it names in a closing comment.
 *
 * Writes go one at a time (each awaits the socket's drain); events that
 * arrive meanwhile wait in a queue bounded in bytes. A client that does not
 * read fills it, and the stream is closed (`slow-consumer`): the gateway's
 * memory stays flat whatever the client does, and the client resumes with
 * `Last-Event-ID` or resyncs with `changes`.
 */
import type { MailEvent, MailEventType } from '../mail/events.ts'

/** What the stream needs from the SSE plugin's reply (reply.sse and reply.raw). */
export interface SseSink {
  /** One event as `id:`, `event:`, `data:` lines. */
  send: (message: { id: string, event: string, data: unknown }) => Promise<void>
  /** Raw SSE text (closing comments, an empty `id:`), written after what was sent. */
  write: (text: string) => void
  close: () => void
  readonly isConnected: boolean
}

export type CloseReason = 'slow-consumer' | 'token-expired' | 'token-revoked' | 'shutdown' | 'client-gone'

export interface StreamFilter {
  /** Canonical public mailbox ids; null = every mailbox. Account-wide events always pass. */
  mailboxIds: ReadonlySet<string> | null
  /** null = every type. `stream.reset` always passes: it tells the client to resync. */
  types: ReadonlySet<MailEventType> | null
}

/** SSE framing overhead of one event beyond its JSON (field names, newlines). */
const FRAME_OVERHEAD = 32

export function passes (filter: StreamFilter, event: MailEvent): boolean {
  if (event.type === 'stream.reset') return true
  if (filter.types !== null && !filter.types.has(event.type)) return false
  return event.mailboxId === null || filter.mailboxIds === null || filter.mailboxIds.has(event.mailboxId)
}

export class EventStream {
  readonly #queue: Array<{ event: MailEvent, bytes: number }> = []
  #queuedBytes = 0
  #pumping = false
  #closed = false
  #reason: CloseReason | null = null
  readonly #closers: Array<(reason: CloseReason) => void> = []

  constructor (
    private readonly sink: SseSink,
    private readonly filter: StreamFilter,
    private readonly maxBufferBytes: number
  ) {}

  get closed (): boolean { return this.#closed }
  /** Why the stream ended; null while open. */
  get reason (): CloseReason | null { return this.#reason }

  /** Called once when the stream ends, whatever ended it. */
  onClose (fn: (reason: CloseReason) => void): void {
    this.#closers.push(fn)
  }

  /** Queues an event that passes the filter; past the byte bound the stream ends. */
  push (event: MailEvent): void {
    if (this.#closed || !passes(this.filter, event)) return
    const bytes = Buffer.byteLength(JSON.stringify(event)) + event.id.length + event.type.length + FRAME_OVERHEAD
    if (this.#queuedBytes + bytes > this.maxBufferBytes) {
      this.end('slow-consumer')
      return
    }
    this.#queue.push({ event, bytes })
    this.#queuedBytes += bytes
    this.#pump().catch(() => {})
  }

  /**
   * `stream.reset`: events were missed (the Last-Event-ID is unknown or no
   * longer retained). Its empty `id:` clears the client's last event id, so
   * a reconnect after the client resynced does not ask for it again.
   */
  reset (event: MailEvent): void {
    if (this.#closed) return
    this.sink.write(`id:\nevent: stream.reset\ndata: ${JSON.stringify(event)}\n\n`)
  }

  /**
   * Ends the stream: a comment naming the reason (and for a shutdown, a
   * `retry:` hint for the reconnect), then the response ends. Idempotent.
   */
  end (reason: CloseReason, retryMs?: number): void {
    if (this.#closed) return
    this.#closed = true
    this.#reason = reason
    this.#queue.length = 0
    this.#queuedBytes = 0
    if (reason !== 'client-gone' && this.sink.isConnected) {
      this.sink.write(`${retryMs === undefined ? '' : `retry: ${retryMs}\n`}: closed ${reason}\n\n`)
    }
    this.sink.close()
    for (const fn of this.#closers.splice(0)) fn(reason)
  }

  async #pump (): Promise<void> {
    if (this.#pumping) return
    this.#pumping = true
    try {
      for (let next = this.#queue.shift(); next !== undefined && !this.#closed; next = this.#queue.shift()) {
        // counted until written: the bound covers what waits on the socket too
        await this.sink.send({ id: next.event.id, event: next.event.type, data: next.event })
        if (!this.#closed) this.#queuedBytes -= next.bytes
      }
    } catch {
      this.end('client-gone')
    } finally {
      this.#pumping = false
    }
  }
}
