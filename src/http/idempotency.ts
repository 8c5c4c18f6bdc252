/**
 * Idempotency-Key on every authenticated POST of the REST face
 * (draft-ietf-httpapi-idempotency-key-header), as two hooks any POST route
 * gets by being registered in the REST context: a retry with the same key
 * and the same request (method, URL with query, content type, body) gets the
 * first answer again, with `Idempotent-Replayed: true`, and nothing is done
 * twice; another request under the key is 422, a retry while the first still
 * runs 409 (both `idempotency-conflict`). Answers of 5xx and 429 are not
 * kept (the retry runs again), nor are answers given before a streamed body was read
 * whole (its fingerprint is unknown).
 *
 * A streamed body (APPEND) is hashed as it passes to the route, not read
 * ahead; a retry's body is hashed and discarded when the first answer is
 * replayed.
 */
import { createHash, type Hash } from 'node:crypto'
import { Readable, Transform, pipeline } from 'node:stream'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { GatewayError } from '../mail/errors.ts'
import { checkIdempotencyKey, keepsAnswer, type IdempotencyRecords } from '../mail/idempotency.ts'
import type { MailServiceApi } from '../mail/service-types.ts'

interface Pending {
  accountId: string
  key: string
  /** The request's fingerprint; null while (or when) a streamed body was not read whole. */
  fingerprint: () => string | null
  /** Set by commitIdempotency(): even a 5xx answer is kept, the request is never run again. */
  committed: boolean
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: Pending | null
  }
}

/** Response headers replayed with the first answer. */
const KEPT_HEADERS = ['content-type', 'location']

function start (request: FastifyRequest): Hash {
  return createHash('sha256').update(`${request.method} ${request.url}\n${request.headers['content-type'] ?? ''}\n`)
}

async function digestStream (hash: Hash, body: Readable): Promise<string> {
  for await (const chunk of body as AsyncIterable<Buffer>) hash.update(chunk)
  return hash.digest('base64url')
}

/** Passes the body on unchanged while hashing it; the digest once it ended. */
function hashing (request: FastifyRequest, body: Readable): { stream: Readable, digest: () => string | null } {
  const hash = start(request)
  let digest: string | null = null
  const stream = new Transform({
    transform (chunk: Buffer, _enc, cb) { hash.update(chunk); cb(null, chunk) },
    flush (cb) { digest = hash.digest('base64url'); cb() },
  })
  pipeline(body, stream, () => {})
  return { stream, digest: () => digest }
}

/**
 * For a route whose effect cannot be undone once under way (a send): from
 * now on the key stays claimed, and whatever the answer (a 502 whose
 * outcome is unknown included) is what retries get.
 */
export async function commitIdempotency (request: FastifyRequest, service: MailServiceApi): Promise<void> {
  const pending = request.idempotency
  if (pending === null || service.idempotency === undefined) return
  await service.idempotency.commit(pending.accountId, pending.key)
  pending.committed = true
}

export function registerIdempotency (app: FastifyInstance, service: MailServiceApi): void {
  app.decorateRequest('idempotency', null)
  const records = (): IdempotencyRecords => {
    if (service.idempotency === undefined) throw new GatewayError('bad-request', 'this gateway keeps no Idempotency-Key records')
    return service.idempotency
  }

  app.addHook('preHandler', async (request, reply) => {
    const header = request.headers['idempotency-key']
    if (request.method !== 'POST' || header === undefined || request.caller === null) return
    const key = checkIdempotencyKey(Array.isArray(header) ? header.join(',') : header)
    const accountId = request.caller.account.id
    const begun = await records().begin(accountId, key)
    const streamed = request.body instanceof Readable
    if (begun.state === 'done') {
      const fingerprint = streamed
        ? await digestStream(start(request), request.body as Readable)
        : start(request).update(JSON.stringify(request.body ?? null)).digest('base64url')
      if (fingerprint !== begun.fingerprint) {
        throw new GatewayError('idempotency-conflict', 'this Idempotency-Key was used with another request', { altStatus: true })
      }
      for (const [name, value] of Object.entries(begun.answer.headers)) reply.header(name, value)
      reply.header('idempotent-replayed', 'true').code(begun.answer.status)
      return await reply.send(begun.answer.body)
    }
    if (streamed) {
      const { stream, digest } = hashing(request, request.body as Readable)
      request.body = stream
      request.idempotency = { accountId, key, fingerprint: digest, committed: false }
    } else {
      const fingerprint = start(request).update(JSON.stringify(request.body ?? null)).digest('base64url')
      request.idempotency = { accountId, key, fingerprint: () => fingerprint, committed: false }
    }
  })

  app.addHook('onSend', async (request, reply, payload) => {
    const pending = request.idempotency
    if (pending === null) return payload
    request.idempotency = null
    const fingerprint = pending.fingerprint()
    if (!keepsAnswer(reply.statusCode, pending.committed) || fingerprint === null) {
      await records().abandon(pending.accountId, pending.key)
      return payload
    }
    const headers: Record<string, string> = {}
    for (const name of KEPT_HEADERS) {
      const value = reply.getHeader(name)
      if (value !== undefined) headers[name] = String(value)
    }
    const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : ''
    await records().finish(pending.accountId, pending.key, fingerprint, { status: reply.statusCode, headers, body })
    return payload
  })

  // an answer never sent (the client went away first) keeps nothing: the key is free again
  app.addHook('onResponse', async (request) => {
    const pending = request.idempotency
    if (pending === null) return
    request.idempotency = null
    await records().abandon(pending.accountId, pending.key)
  })
}
