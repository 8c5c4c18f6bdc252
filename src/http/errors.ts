/**
 * The REST face's one error handler: every failure leaves as
 * application/problem+json (RFC 9457) with the catalogue's code and status.
 * Client-caused failures never echo what the client sent (a malformed JSON body
 * may hold a password; Node's SyntaxError quotes the source), and unexpected
 * errors are logged with the request id and answered with a generic detail.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { ERRORS, GatewayError, isGatewayError, problemType } from '../mail/errors.ts'
import type { ErrorCode } from '../mail/errors.ts'
import { methodNotAllowed } from './methods.ts'

export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  code: ErrorCode
  [extension: string]: unknown
}

export function problemOf (code: ErrorCode, detail?: string, extra: Record<string, unknown> = {}): Problem {
  const { status, title } = ERRORS[code]
  return { ...extra, type: problemType(code), title, status, detail: detail ?? title, code }
}

/** Retry-After in whole seconds (REST problems and GraphQL responses alike). */
export function retryAfterValue (seconds: number): string {
  return String(Math.max(0, Math.ceil(seconds)))
}

/** Headers a half-prepared download may have set that must not travel with a problem. */
const DOWNLOAD_HEADERS = ['etag', 'cache-control', 'content-disposition', 'content-length', 'content-type']

export const WWW_AUTHENTICATE = 'Bearer realm="mail-gateway"'

export function sendProblem (reply: FastifyReply, err: GatewayError): FastifyReply {
  if (!reply.raw.headersSent) {
    for (const name of DOWNLOAD_HEADERS) {
      reply.removeHeader(name)
      reply.raw.removeHeader(name)
    }
  }
  if (err.retryAfter !== undefined) reply.header('retry-after', retryAfterValue(err.retryAfter))
  // RFC 9110 §15.5.2: every 401 names its scheme (a rejected login too)
  if (err.status === 401) reply.header('www-authenticate', WWW_AUTHENTICATE)
  reply.code(err.status).type('application/problem+json; charset=utf-8')
  return reply.send({ ...problemOf(err.code, err.message, err.extra), status: err.status })
}

const PART_NAMES: Record<string, string> = { querystring: 'query parameter', params: 'path parameter' }

/** A readable detail from Ajv's first error; names what is wrong, never the value sent. */
function validationDetail (err: FastifyError): string {
  const first = err.validation?.[0]
  const part = err.validationContext ?? 'request'
  if (first === undefined) return `Invalid ${part}`
  const params = first.params as Record<string, unknown>
  if (first.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    // A body key is the caller's free text (it could even be a mistyped secret): not echoed.
    if (part === 'body') return 'Unknown field in the request body (see the schema at /docs)'
    return `Unknown ${PART_NAMES[part] ?? part} '${params.additionalProperty.slice(0, 64)}'`
  }
  // The only top-level oneOf on a body: CreateSessionRequest's credential choice.
  if (part === 'body' && err.validation?.some(e => e.keyword === 'oneOf' && e.instancePath === '') === true) {
    return 'body must carry exactly one of password and accessToken'
  }
  return err.message
}

/** Fastify's own errors (validation, content-type parsing, body limit, bad URL) → catalogue; the GraphQL face maps them the same way. */
export function fromFastifyError (err: FastifyError): GatewayError | null {
  if (err.validation !== undefined) return new GatewayError('bad-request', validationDetail(err))
  const code = err.code ?? ''
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new GatewayError('payload-too-large', 'Request body is over the limit')
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new GatewayError('unsupported-media-type', 'Content-Type must be application/json (message/rfc822 to add a message)')
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return new GatewayError('bad-request', 'Request body is empty')
  if (code.startsWith('FST_ERR_CTP_') || err instanceof SyntaxError) return new GatewayError('bad-request', 'Malformed JSON body')
  const status = err.statusCode ?? 500
  if (status === 413) return new GatewayError('payload-too-large', 'Request body is over the limit')
  if (status === 404) return new GatewayError('not-found')
  if (status === 415) return new GatewayError('unsupported-media-type', 'Content-Type must be application/json')
  if (status >= 400 && status < 500) return new GatewayError('bad-request', 'The request could not be understood')
  return null
}

/** The system or library code of what caused a failure (ECONNREFUSED, ERR_SSL_…), if any. */
function causeCode (err: GatewayError): string | undefined {
  const code = (err.cause as { code?: unknown } | undefined)?.code
  return typeof code === 'string' ? code.slice(0, 64) : undefined
}

export function errorHandler (error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const gateway = isGatewayError(error) ? error : fromFastifyError(error)
  if (gateway === null) {
    request.log.error({ err: error }, 'unexpected error')
    return sendProblem(reply, new GatewayError('internal', 'An unexpected error occurred; it was logged with the request id'))
  }
  // Never the raw error object for client faults: its message may quote the request.
  const fields = { code: gateway.code, status: gateway.status, detail: gateway.message, ...(gateway === error ? {} : { fastifyCode: error.code }) }
  if (gateway.code === 'internal') {
    request.log.error({ ...fields, err: isGatewayError(error) ? error : undefined }, 'request failed')
  } else if (gateway.status >= 500) {
    // the mail server's side or the caller's settings (no such host, wrong port, TLS
    // mismatch), never the gateway's own fault: a warning, with the cause's code, no stack
    request.log.warn({ ...fields, cause: causeCode(gateway) }, 'request failed upstream')
  } else if (gateway.code === 'auth-failed' || gateway.code === 'rate-limited' || gateway.code === 'host-not-allowed') {
    request.log.warn(fields, 'request refused')
  } else {
    request.log.info(fields, 'request refused')
  }
  return sendProblem(reply, gateway)
}

export function notFoundHandler (request: FastifyRequest, reply: FastifyReply, allowed: (path: string) => string[]): FastifyReply {
  const path = request.url.split('?')[0] ?? ''
  const wrongMethod = methodNotAllowed(request, reply, allowed(path))
  if (wrongMethod !== null) {
    request.log.info({ code: wrongMethod.code, method: request.method, path }, 'method not allowed')
    return sendProblem(reply, wrongMethod)
  }
  request.log.info({ code: 'not-found', method: request.method, path }, 'no such route')
  return sendProblem(reply, new GatewayError('not-found', `No route ${request.method} ${path}`))
}
