/**
 * Logging: pino, with credentials redacted wherever they could hide, request
 * ids that honour a sane incoming X-Request-Id, and request lines that carry
 * the path only (query strings hold search terms and are left out).
 * Request bodies are never logged (fastify does not, and nothing here adds them).
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { pino } from 'pino'
import type { DestinationStream, Logger, LoggerOptions } from 'pino'

const SECRET_KEYS = ['password', 'accessToken', 'token', 'pass', 'secret', 'authorization', 'cookie']

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'body',
  'req.body',
  'settings',
  '*.settings',
  ...SECRET_KEYS,
  ...SECRET_KEYS.map(k => `*.${k}`),
  ...SECRET_KEYS.map(k => `*.*.${k}`),
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
