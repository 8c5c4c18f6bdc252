/**
 * This instance's open event streams, by token: the caps (streams per token
 * and per instance: 429), and the ends that come from outside a stream — a
 * revocation here (at once), a revocation on another instance (seen by a
 * periodic re-check of each token, within `recheckMs`), and shutdown.
 */
import { GatewayError, isGatewayError } from '../mail/errors.ts'
import type { CloseReason, EventStream } from './sse-stream.ts'

export interface StreamLimits {
  /** Open streams on this instance. */
  maxStreams: number
  /** Open streams per token on this instance. */
  maxPerToken: number
  /** How often each token with open streams is checked again (revoked elsewhere), ms. */
  recheckMs: number
}

interface TokenStreams {
  token: string
  streams: Set<EventStream>
}

export class EventStreams {
  readonly #byToken = new Map<string, TokenStreams>()
  #count = 0
  #timer: NodeJS.Timeout | null = null

  constructor (
    private readonly limits: StreamLimits,
    /** Rejects with `unauthorized` for a token that is revoked or expired. */
    private readonly authenticate: (token: string) => Promise<unknown>
  ) {}

  get size (): number { return this.#count }

  /** Registers a stream, or throws 429 when a cap is reached. */
  add (tokenId: string, token: string, stream: EventStream): void {
    const entry = this.#byToken.get(tokenId)
    if (this.#count >= this.limits.maxStreams) {
      throw new GatewayError('rate-limited', 'too many event streams on this instance; retry later', { retryAfter: 5 })
    }
    if ((entry?.streams.size ?? 0) >= this.limits.maxPerToken) {
      throw new GatewayError('rate-limited', `at most ${this.limits.maxPerToken} event streams per token`, { retryAfter: 5 })
    }
    const streams = entry?.streams ?? new Set<EventStream>()
    if (entry === undefined) this.#byToken.set(tokenId, { token, streams })
    streams.add(stream)
    this.#count++
    stream.onClose(() => {
      if (!streams.delete(stream)) return
      this.#count--
      if (streams.size === 0 && this.#byToken.get(tokenId)?.streams === streams) this.#byToken.delete(tokenId)
      if (this.#count === 0) this.#stopRecheck()
    })
    this.#startRecheck()
  }

  /** Ends every stream of a token (revoked on this instance). */
  closeToken (tokenId: string, reason: CloseReason): void {
    const entry = this.#byToken.get(tokenId)
    if (entry === undefined) return
    for (const stream of [...entry.streams]) stream.end(reason)
  }

  /** Ends every stream (shutdown), with a `retry:` hint for the reconnect. */
  closeAll (reason: CloseReason, retryMs?: number): void {
    for (const entry of [...this.#byToken.values()]) {
      for (const stream of [...entry.streams]) stream.end(reason, retryMs)
    }
    this.#stopRecheck()
  }

  #startRecheck (): void {
    if (this.#timer !== null) return
    this.#timer = setInterval(() => { this.#recheck() }, this.limits.recheckMs)
    this.#timer.unref()
  }

  #stopRecheck (): void {
    if (this.#timer === null) return
    clearInterval(this.#timer)
    this.#timer = null
  }

  #recheck (): void {
    for (const [tokenId, { token }] of this.#byToken) {
      this.authenticate(token).catch((err: unknown) => {
        // only a verdict on the token ends its streams, never a passing failure to check it
        if (isGatewayError(err) && err.code === 'unauthorized') this.closeToken(tokenId, 'token-revoked')
      })
    }
  }
}
