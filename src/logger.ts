/**
 * Logging: pino, with credentials and user names redacted wherever they could hide, request
 * ids that honour a sane incoming X-Request-Id, and request lines that carry
 * the path only (query strings hold search terms and are left out).
 * Request bodies are never logged (fastify does not, and nothing here adds them).
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { pino } from 'pino'
import type { Bindings, ChildLoggerOptions, DestinationStream, Level, Logger, LoggerOptions } from 'pino'

const SECRET_KEYS = ['password', 'accessToken', 'token', 'pass', 'secret', 'authorization', 'cookie']
/**
 * A mail account's user name is personal data: never in a log line under
 * these keys, at any level (nothing logs it at info anyway; a test watches).
 */
const PERSONAL_KEYS = ['username', 'user']

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'body',
  'req.body',
  'settings',
  '*.settings',
  ...[...SECRET_KEYS, ...PERSONAL_KEYS].flatMap(k => [k, `*.${k}`, `*.*.${k}`]),
]

interface RequestLike {
  method?: string
  url?: string
  ip?: string
  socket?: { remoteAddress?: string }
}

/** Request lines: method and path (the id is bound as reqId); never headers, query values or bodies. */
export const serializers = {
  req (req: RequestLike) {
    return {
      method: req.method,
      path: (req.url ?? '').split('?')[0],
      remoteAddress: req.ip ?? req.socket?.remoteAddress,
    }
  },
}

export function loggerOptions (level = 'info'): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers,
  }
}

export function createLogger (level = 'info', destination?: DestinationStream): Logger {
  return destination === undefined ? pino(loggerOptions(level)) : pino(loggerOptions(level), destination)
}

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** Fastify genReqId: a caller's X-Request-Id when it is sane, else a fresh UUID. */
export function genReqId (req: IncomingMessage): string {
  const incoming = req.headers['x-request-id']
  if (typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming)) return incoming
  return randomUUID()
}

/**
 * fastify makes a child logger (bound to the request id) for every request, and
 * pino's child() runs the redaction over its bindings: a cost on every request
 * that buys nothing when the request logs nothing (LOG_LEVEL=warn, a good
 * request). This stand-in makes the child on the first entry that is logged
 * (one small object per request, methods on the prototype). A route with a log
 * level of its own gets its child at once, as before.
 */
class LazyChild {
  #real: Logger | undefined
  constructor (private readonly parent: Logger, private readonly bindings: Bindings, private readonly opts: ChildLoggerOptions) {}

  #get (): Logger {
    this.#real ??= this.parent.child(this.bindings, this.opts)
    return this.#real
  }

  #log (level: Level, args: unknown[]): void {
    if (this.#real === undefined && !this.parent.isLevelEnabled(level)) return
    (this.#get()[level] as (...a: unknown[]) => void)(...args)
  }

  get level (): string { return (this.#real ?? this.parent).level }
  set level (value: string) { this.#get().level = value }
  isLevelEnabled (level: string): boolean { return (this.#real ?? this.parent).isLevelEnabled(level) }
  child (bindings: Bindings, opts?: ChildLoggerOptions): Logger { return this.#get().child(bindings, opts) }
  silent (): void {}
  fatal (...args: unknown[]): void { this.#log('fatal', args) }
  error (...args: unknown[]): void { this.#log('error', args) }
  warn (...args: unknown[]): void { this.#log('warn', args) }
  info (...args: unknown[]): void { this.#log('info', args) }
  debug (...args: unknown[]): void { this.#log('debug', args) }
  trace (...args: unknown[]): void { this.#log('trace', args) }
}

export function lazyChildLogger (parent: Logger, bindings: Bindings, opts: ChildLoggerOptions): Logger {
  if (opts.level !== undefined && opts.level !== parent.level) return parent.child(bindings, opts)
  return new LazyChild(parent, bindings, opts) as unknown as Logger
}
