/**
 * Idempotency keys for faces that call the core directly (GraphQL
 * mutations), with the REST hooks' semantics (src/http/idempotency.ts) over
 * the same records: the first call under a key runs and its answer is kept;
 * a retry with the same fingerprint gets that answer again without running;
 * another fingerprint is `idempotency-conflict` 422; while the first runs,
 * 409. Failures of 5xx and 429 are not kept (the key is freed, a retry runs
 * again) unless the call passed its commit point (a send whose message text started
 * to flow): then whatever it answered is what retries get.
 *
 * An answer is kept as REST keeps one (status and JSON body), so a failure is
 * replayed as the same GatewayError (code, detail, extension members).
 */
import { createHash } from 'node:crypto'
import { ERRORS, GatewayError, isGatewayError, type ErrorCode } from './errors.ts'
import { checkIdempotencyKey, keepsAnswer, type IdempotencyRecords, type StoredAnswer } from './idempotency.ts'

export interface IdempotentCall {
  accountId: string
  /** As the caller sent it; null/undefined: no key, the call just runs. */
  key: string | null | undefined
  /** The operation's name and its input (the fingerprint: another input under the key is a conflict). */
  operation: string
  input: unknown
}

interface KeptError { code: ErrorCode, detail: string, extra?: Record<string, unknown> }

function fingerprintOf (call: IdempotentCall): string {
  return createHash('sha256').update(`${call.operation}\n${JSON.stringify(call.input ?? null)}`).digest('base64url')
}

function kept (err: unknown): StoredAnswer {
  const e = isGatewayError(err) ? err : new GatewayError('internal')
  const body: KeptError = { code: e.code, detail: e.message, ...(e.extra === undefined ? {} : { extra: e.extra }) }
  return { status: e.status, headers: {}, body: JSON.stringify(body) }
}

function replay<T> (answer: StoredAnswer): T {
  if (answer.status < 300) return JSON.parse(answer.body) as T
  const e = JSON.parse(answer.body) as KeptError
  throw new GatewayError(e.code, e.detail, {
    ...(e.extra === undefined ? {} : { extra: e.extra }),
    altStatus: answer.status !== ERRORS[e.code].status,
  })
}

/**
 * Runs `run` once per key and account. `run` gets `commit`, to call at the
 * point after which it must never run again even if it then fails.
 */
export async function idempotentCall<T> (records: IdempotencyRecords | undefined, call: IdempotentCall,
  run: (commit: () => Promise<void>) => Promise<T>): Promise<T> {
  if (call.key === null || call.key === undefined) return await run(async () => {})
  if (records === undefined) throw new GatewayError('bad-request', 'this gateway keeps no idempotency key records')
  const key = checkIdempotencyKey(call.key)
  const fingerprint = fingerprintOf(call)
  const begun = await records.begin(call.accountId, key)
  if (begun.state === 'done') {
    if (begun.fingerprint !== fingerprint) {
      throw new GatewayError('idempotency-conflict', 'this idempotency key was used with another request', { altStatus: true })
    }
    return replay<T>(begun.answer)
  }
  let committed = false
  let value: T
  try {
    value = await run(async () => {
      await records.commit(call.accountId, key)
      committed = true
    })
  } catch (err) {
    const answer = kept(err)
    if (keepsAnswer(answer.status, committed)) await records.finish(call.accountId, key, fingerprint, answer)
    else await records.abandon(call.accountId, key)
    throw err
  }
  await records.finish(call.accountId, key, fingerprint, { status: 200, headers: {}, body: JSON.stringify(value) })
  return value
}
