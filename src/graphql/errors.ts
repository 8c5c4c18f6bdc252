/**
 * GraphQL errors carry the contract's code in `extensions.code` (contract §4):
 * - a GatewayError keeps its code, detail and status;
 * - errors about the request itself (syntax, validation, limits, variables,
 *   framework parsing) become `bad-request` (413 → `payload-too-large`);
 * - anything else is `internal` with a generic message, logged, never shown.
 * The result goes through mercurius' defaultErrorFormatter for the HTTP status
 * (200 when there is data, else the errors' status when they agree, else 200).
 */
import { GraphQLError, type ExecutionResult } from 'graphql'
import mercurius, { type MercuriusContext } from 'mercurius'
import type { FastifyError } from 'fastify'
import { fromFastifyError, retryAfterValue } from '../http/errors.ts'
import { ERRORS, isGatewayError, type ErrorCode } from '../mail/errors.ts'

const { defaultErrorFormatter, ErrorWithProps } = mercurius

type Log = MercuriusContext['app']['log']

function publicError (err: GraphQLError, message: string, code: ErrorCode, status: number, extra: Record<string, unknown> = {}): GraphQLError {
  const extensions = { code, ...extra }
  return new GraphQLError(message, {
    ...(err.nodes === undefined ? {} : { nodes: err.nodes }),
    ...(err.source === undefined ? {} : { source: err.source }),
    ...(err.positions === undefined ? {} : { positions: err.positions }),
    ...(err.path === undefined ? {} : { path: err.path }),
    originalError: new ErrorWithProps(message, extensions, status),
    extensions,
  })
}

/**
 * graphql-js prints offending values into some messages (variable coercion:
 * `Variable "$input" got invalid value { …, password: "…" }`; literals:
 * `… found "…"`). Values a caller sent may be credentials, so they never reach
 * an error body or a log line: only the names and the reason remain.
 */
export function scrubValues (message: string): string {
  let m = message
  // `Variable "$x" got invalid value <value>; <reason>`: the reason comes last.
  const got = m.indexOf(' got invalid value ')
  if (got !== -1) {
    const reason = m.lastIndexOf('; ')
    m = m.slice(0, got) + ' got an invalid value' + (reason > got ? m.slice(reason) : '.')
  }
  // `Argument "x" has invalid value <value>.`
  const has = m.indexOf(' has invalid value ')
  if (has !== -1) m = m.slice(0, has) + ' has an invalid value.'
  // `String cannot represent a non string value: <value>`
  const represent = m.search(/cannot represent [^:]*value: /i)
  if (represent !== -1) m = m.slice(0, m.indexOf(': ', represent))
  // `Expected value of type "T", found <value>.`
  const found = m.indexOf(', found ')
  if (found !== -1) m = m.slice(0, found) + ', found an invalid value.'
  return m
}

function frameworkStatus (err: Error): number | undefined {
  const { statusCode, code } = err as Error & { statusCode?: unknown, code?: unknown }
  const framework = typeof code === 'string' && (code.startsWith('FST_') || code.startsWith('MER_'))
  return framework && typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500 ? statusCode : undefined
}

export function toPublicError (err: GraphQLError, log: Log): GraphQLError[] {
  const orig = err.originalError
  // mercurius wraps validation/depth/parse failures in one error holding the list.
  const nested = (orig as { errors?: unknown } | undefined)?.errors
  if (Array.isArray(nested)) {
    // Each is about the request (syntax, validation, limits, GET mutation): bad-request.
    const status = frameworkStatus(orig as Error) ?? 400
    return nested.map(e => e instanceof GraphQLError && e.originalError !== undefined && !(e.originalError instanceof GraphQLError)
      ? toPublicError(e, log)[0] as GraphQLError
      : publicError(e instanceof GraphQLError ? e : new GraphQLError(''), scrubValues(String((e as Error).message)), 'bad-request', status))
  }
  if (isGatewayError(orig) && orig.code !== 'internal') {
    const extra = { ...orig.extra, ...(orig.retryAfter === undefined ? {} : { retryAfter: orig.retryAfter }) }
    return [publicError(err, orig.message, orig.code, orig.status, extra)]
  }
  if (orig === undefined || orig instanceof GraphQLError) {
    // graphql-js' own verdict on the request: syntax, validation, variable coercion.
    return [publicError(err, scrubValues(err.message), 'bad-request', 400)]
  }
  const status = frameworkStatus(orig)
  if (status !== undefined) {
    // fastify's own (content type, body size): mapped exactly as REST maps them
    const mapped = (orig as FastifyError).code.startsWith('FST_') ? fromFastifyError(orig as FastifyError) : null
    if (mapped !== null) return [publicError(err, mapped.message, mapped.code, mapped.status)]
    return [publicError(err, orig.message, status === 413 ? 'payload-too-large' : 'bad-request', status)]
  }
  log.error({ err: orig, path: err.path }, 'GraphQL request failed')
  return [publicError(err, ERRORS.internal.title, 'internal', ERRORS.internal.status)]
}

export function errorFormatter (
  execution: ExecutionResult & Required<Pick<ExecutionResult, 'errors'>>,
  context: MercuriusContext
): ReturnType<typeof defaultErrorFormatter> {
  const log = context.reply?.log ?? context.app.log
  const errors = execution.errors.flatMap(e => toPublicError(e, log))
  const formatted = defaultErrorFormatter({ ...execution, errors }, context)
  // No data and every error agrees on a status (e.g. two limit violations): use it.
  const statuses = new Set(errors.map(e => (e.originalError as { statusCode?: number } | undefined)?.statusCode))
  const [only] = statuses
  if (execution.data == null && statuses.size === 1 && typeof only === 'number') formatted.statusCode = only
  // contract §4: rate-limited comes with Retry-After, on /graphql as on REST
  const retryAfter = errors.map(e => e.extensions.retryAfter).find((v): v is number => typeof v === 'number')
  if (retryAfter !== undefined) context.reply?.header('retry-after', retryAfterValue(retryAfter))
  return formatted
}
