/**
 * This instance's open event streams: the per-instance cap (429) and the end
 * every stream gets at shutdown. What ends a stream because of its token — a
 * revocation here or on another instance, the token's expiry — and the cap
 * per token that SSE streams share with GraphQL subscriptions live in the
 * service's TokenLifetimes (src/mail/token-lifetimes.ts), one place for both
 * faces.
 */
import { GatewayError } from '../mail/errors.ts'
import type { CloseReason, EventStream } from './sse-stream.ts'

export class EventStreams {
  readonly #streams = new Set<EventStream>()

  /** @param maxStreams open streams on this instance (EVENTS_MAX_STREAMS) */
  constructor (private readonly maxStreams: number) {}

  get size (): number { return this.#streams.size }

  /** Registers a stream until it closes, or throws 429 when the instance is full. */
  add (stream: EventStream): void {
    if (this.#streams.size >= this.maxStreams) {
      throw new GatewayError('rate-limited', 'too many event streams on this instance; retry later', { retryAfter: 5 })
    }
    this.#streams.add(stream)
    stream.onClose(() => { this.#streams.delete(stream) })
  }

  /** Ends every stream (shutdown), with a `retry:` hint for the reconnect. */
  closeAll (reason: CloseReason, retryMs?: number): void {
    for (const stream of [...this.#streams]) stream.end(reason, retryMs)
  }
}
