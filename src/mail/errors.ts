/**
 * The one error catalogue (contract §4). Every failure the gateway reports is a
 * GatewayError with one of these codes; REST maps it to problem+json, GraphQL to
 * errors[].extensions.code. Nothing else decides a status code.
 */

export const ERRORS = {
  'bad-request': { status: 400, title: 'Bad request' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  'auth-failed': { status: 401, title: 'Mail server rejected the login' },
  'host-not-allowed': { status: 403, title: 'Mail host not allowed' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'mailbox-locked': { status: 409, title: 'Mailbox locked by another client' },
  'already-exists': { status: 409, title: 'A mailbox of that name already exists' },
  'mailbox-not-empty': { status: 409, title: 'Mailbox not empty' },
  /** 409 while the first request with the key runs; 422 when the key is reused with another body. */
  'idempotency-conflict': { status: 409, title: 'Idempotency key conflict', altStatus: 422 },
  'stale-id': { status: 410, title: 'Stale id' },
  /** `changes` from a state the gateway can no longer compute from: the client lists again. */
  'cannot-calculate-changes': { status: 410, title: 'Changes cannot be calculated from this state' },
  'precondition-failed': { status: 412, title: 'Changed since the version sent in If-Match' },
  'payload-too-large': { status: 413, title: 'Payload too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  unsupported: { status: 422, title: 'Not supported by this account' },
  /** Every recipient, or the sender, refused by the submission server (its reply in the detail). */
  'send-rejected': { status: 422, title: 'The submission server refused the message' },
  'precondition-unavailable': { status: 428, title: 'If-Match cannot be honoured by this account' },
  'rate-limited': { status: 429, title: 'Rate limited' },
  'headers-too-large': { status: 431, title: 'Request header fields too large' },
  internal: { status: 500, title: 'Internal error' },
  'upstream-unavailable': { status: 502, title: 'Mail server unavailable' },
  'upstream-timeout': { status: 504, title: 'Mail server timeout' },
  unavailable: { status: 503, title: 'Temporarily unavailable' },
  'over-quota': { status: 507, title: 'Mailbox over quota' },
} as const satisfies Record<string, { status: number, title: string, altStatus?: number }>

export type ErrorCode = keyof typeof ERRORS

/** Every status a code may be answered with (most have one). */
export function statusesOf (code: ErrorCode): number[] {
  const entry: { status: number, altStatus?: number } = ERRORS[code]
  return entry.altStatus === undefined ? [entry.status] : [entry.status, entry.altStatus]
}

export interface GatewayErrorOptions {
  /** Seconds, sent as Retry-After (429, 409, 503). */
  retryAfter?: number
  cause?: unknown
  /** Extension members of the problem (REST) and `extensions` (GraphQL), e.g. a 412's current keywords. */
  extra?: Record<string, unknown>
  /** The catalogue's other status for a code that has one (`altStatus`). */
  altStatus?: boolean
}

export class GatewayError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly title: string
  readonly retryAfter: number | undefined
  readonly extra: Record<string, unknown> | undefined

  /** `detail` is shown to callers: never put credentials or server secrets in it. */
  constructor (code: ErrorCode, detail?: string, options: GatewayErrorOptions = {}) {
    super(detail ?? ERRORS[code].title, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'GatewayError'
    this.code = code
    const entry: { status: number, altStatus?: number } = ERRORS[code]
    this.status = options.altStatus === true ? entry.altStatus ?? entry.status : entry.status
    this.title = ERRORS[code].title
    this.retryAfter = options.retryAfter
    this.extra = options.extra
  }
}

export function isGatewayError (err: unknown): err is GatewayError {
  return err instanceof GatewayError
}

/** Problem-type URI for a code (RFC 9457 `type`). */
export function problemType (code: ErrorCode): string {
  return `https://mail-gateway.dev/problems/${code}`
}
