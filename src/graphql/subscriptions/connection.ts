/**
 * One WebSocket at /graphql, between `ws` and mercurius. mercurius speaks
 * `graphql-transport-ws` but leaves out what the protocol and the contract
 * need, so every client message passes through here first:
 * - `connection_init`: the token in its payload (`{ "authorization": "Bearer …" }`)
 *   is checked here; a bad one closes the socket with 4403 (mercurius would
 *   send a `connection_error` the protocol does not have and close with no
 *   code). mercurius gets the init without its payload, so the token is never
 *   copied into the request's headers.
 * - no `connection_init` within INIT_TIMEOUT_MS → 4408; a second one → 4429;
 *   a `subscribe` before the acknowledgement → 4401; a message that is not a
 *   protocol message → 4400; an id already running → 4409.
 * - a `subscribe` whose document is refused (syntax, validation, depth, cost,
 *   variables: subscribe-check.ts) is answered `error` here: mercurius runs no
 *   validation on subscriptions, and keeps a failed one's state until the socket closes.
 * - the token's expiry or revocation closes the socket with 4403 (token-lifetimes.ts).
 * mercurius sees a Socket facade that emits only the messages let through.
 */
import { EventEmitter } from 'node:events'
import type { WebSocket } from 'ws'
import { bearerToken } from '../../http/auth.ts'
import type { Caller, MailServiceApi } from '../../mail/service-types.ts'
import type { TokenLifetimes } from '../../mail/token-lifetimes.ts'

/** graphql-ws' close codes (its PROTOCOL.md). */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  TryAgainLater: 1013,
  BadRequest: 4400,
  Unauthorized: 4401,
  Forbidden: 4403,
  InitTimeout: 4408,
  SubscriberExists: 4409,
  TooManyInits: 4429,
} as const

/** How long a socket may stay open without a `connection_init` (ms). */
export const INIT_TIMEOUT_MS = 10_000
/** Longest operation id accepted. */
const MAX_ID_CHARS = 128

/** What a subscribe message's document check answers: null when it may run. */
export type DocumentCheck = (payload: { query?: unknown, variables?: unknown, operationName?: unknown }) => object[] | null

export interface ConnectionDeps {
  service: Pick<MailServiceApi, 'authenticate'>
  lifetimes: TokenLifetimes
  checkDocument: DocumentCheck
  /** Called once when the socket has closed. */
  onClosed: () => void
  log: { debug: (obj: object, msg: string) => void }
}

/** What mercurius uses of a socket. */
export class Socket extends EventEmitter {
  constructor (private readonly ws: WebSocket, private readonly onSend: (data: string) => void) {
    super()
  }

  get protocol (): string { return this.ws.protocol }
  get readyState (): number { return this.ws.readyState }

  send (data: string, cb?: (err?: Error) => void): void {
    this.onSend(data)
    this.ws.send(data, cb)
  }

  /** mercurius closes without a code (connection_terminate, its own failures): a normal closure. */
  close (code?: number, reason?: string): void {
    this.ws.close(code ?? CloseCode.Normal, reason)
  }
}

interface ClientMessage { type?: unknown, id?: unknown, payload?: unknown }

export class SubscriberConnection {
  readonly socket: Socket
  #caller: Caller | null = null
  #state: 'new' | 'authenticating' | 'ready' | 'closed' = 'new'
  #initTimer: NodeJS.Timeout | null
  #releaseLifetime: (() => void) | null = null
  /** Operations running (subscribed and not yet completed by either side). */
  readonly #running = new Set<string>()

  constructor (private readonly ws: WebSocket, private readonly deps: ConnectionDeps) {
    this.socket = new Socket(ws, data => this.#outgoing(data))
    this.#initTimer = setTimeout(() => this.close(CloseCode.InitTimeout, 'Connection initialisation timeout'), INIT_TIMEOUT_MS)
    this.#initTimer.unref()
    ws.on('message', (data: Buffer, isBinary: boolean) => this.#incoming(data, isBinary))
    ws.on('error', (err) => this.socket.emit('error', err))
    ws.once('close', (code: number, reason: Buffer) => {
      this.#closed()
      this.socket.emit('close', code, reason)
    })
  }

  /** The authenticated caller; set before mercurius sees the connection_init. */
  get caller (): Caller {
    if (this.#caller === null) throw new Error('no caller before connection_init')
    return this.#caller
  }

  close (code: number, reason: string): void {
    this.ws.close(code, reason)
  }

  #incoming (data: Buffer, isBinary: boolean): void {
    if (this.#state === 'closed') return
    let message: ClientMessage
    try {
      message = JSON.parse(data.toString('utf8')) as ClientMessage
    } catch {
      message = {}
    }
    if (message === null || typeof message !== 'object' || typeof message.type !== 'string' || isBinary) {
      this.close(CloseCode.BadRequest, 'Invalid message received')
      return
    }
    switch (message.type) {
      case 'connection_init':
        this.#init(message.payload)
        return
      case 'subscribe':
        this.#subscribe(message, data)
        return
      case 'complete':
        if (typeof message.id === 'string') this.#running.delete(message.id)
        this.socket.emit('message', data, false)
        return
      case 'ping':
      case 'pong':
        this.socket.emit('message', data, false)
        return
      default:
        this.close(CloseCode.BadRequest, 'Invalid message received')
    }
  }

  #init (payload: unknown): void {
    if (this.#state !== 'new') {
      this.close(CloseCode.TooManyInits, 'Too many initialisation requests')
      return
    }
    this.#state = 'authenticating'
    const authorization = payload !== null && typeof payload === 'object' ? (payload as { authorization?: unknown }).authorization : undefined
    const token = (): string => bearerToken(typeof authorization === 'string' ? authorization : undefined)
    Promise.resolve().then(token).then(t => this.deps.service.authenticate(t)).then((caller) => {
      if (this.#state === 'closed') return
      this.#caller = caller
      this.#releaseLifetime = this.deps.lifetimes.watch(caller, why => this.close(CloseCode.Forbidden, why === 'expired' ? 'Token expired' : 'Token revoked'))
      this.#state = 'ready'
      if (this.#initTimer !== null) clearTimeout(this.#initTimer)
      // mercurius acknowledges it; the payload (the token) stays here
      this.socket.emit('message', Buffer.from('{"type":"connection_init"}'), false)
    }, (err: unknown) => {
      this.deps.log.debug({ reason: (err as Error).message }, 'GraphQL WebSocket refused at connection_init')
      this.close(CloseCode.Forbidden, 'Forbidden')
    })
  }

  #subscribe (message: ClientMessage, data: Buffer): void {
    if (this.#state !== 'ready') {
      this.close(CloseCode.Unauthorized, 'Unauthorized')
      return
    }
    const { id, payload } = message
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_CHARS || payload === null || typeof payload !== 'object') {
      this.close(CloseCode.BadRequest, 'Invalid message received')
      return
    }
    if (this.#running.has(id)) {
      this.close(CloseCode.SubscriberExists, `Subscriber for ${id} already exists`)
      return
    }
    const errors = this.deps.checkDocument(payload as Record<string, unknown>)
    if (errors !== null) {
      this.ws.send(JSON.stringify({ type: 'error', id, payload: errors }))
      return
    }
    this.#running.add(id)
    this.socket.emit('message', data, false)
  }

  /** Operations mercurius ends (`complete`, `error`) are no longer running. */
  #outgoing (data: string): void {
    if (data.startsWith('{"type":"complete"') || data.startsWith('{"type":"error"')) {
      const { id } = JSON.parse(data) as { id?: unknown }
      if (typeof id === 'string') this.#running.delete(id)
    }
  }

  #closed (): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    if (this.#initTimer !== null) clearTimeout(this.#initTimer)
    this.#releaseLifetime?.()
    this.#running.clear()
    this.deps.onClosed()
  }
}
