/**
 * POST /v1/messages/send (contract §10): a JSON message to compose, or a raw
 * message/rfc822 body streamed into the sender's spool (the content type
 * parser of mailbox-writes.ts hands the request stream on unread). The JSON
 * body may carry attachments as base64, so its limit is SEND_LIMIT's base64
 * size, not BODY_LIMIT. With an Idempotency-Key the attempt is recorded
 * before the message text is sent: a retry never sends twice.
 */
import { Readable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { GatewayError } from '../../mail/errors.ts'
import type { SendInput } from '../../mail/send-input.ts'
import { callerOf } from '../auth.ts'
import { commitIdempotency } from '../idempotency.ts'
import { operation } from '../operation.ts'
import type { HttpDeps } from '../operation.ts'

export function sendRoutes (app: FastifyInstance, { service, doc, config }: HttpDeps): void {
  const bodyLimit = Math.max(config.bodyLimit, Math.ceil(config.sendLimit * 4 / 3) + 1024 * 1024)
  operation<{ Body: SendInput | Readable, Querystring: { saveToSent?: boolean } }>(app, doc, 'POST', '/v1/messages/send', async (request) => {
    const body = request.body
    const raw = body instanceof Readable
    const saveToSent = raw ? request.query.saveToSent : (body as SendInput).saveToSent
    if (saveToSent !== undefined && typeof saveToSent !== 'boolean') throw new GatewayError('bad-request', 'saveToSent must be a boolean')
    return await service.sendMessage(callerOf(request), {
      ...(raw ? { raw: body } : { draft: body }),
      ...(saveToSent === undefined ? {} : { saveToSent }),
      onCommit: async () => { await commitIdempotency(request, service) },
    })
  }, { bodyLimit })
}
