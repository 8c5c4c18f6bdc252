import type { FastifyInstance } from 'fastify'
import { callerOf } from '../auth.ts'
import { notModifiedBy, sendDownload } from '../download.ts'
import { operation } from '../operation.ts'
import type { HttpDeps } from '../operation.ts'

export function downloadRoutes (app: FastifyInstance, { service, doc }: HttpDeps): void {
  operation<{ Params: { messageId: string } }>(app, doc, 'GET', '/v1/messages/{messageId}/raw', async (request, reply) => {
    const download = await service.openRaw(callerOf(request), request.params.messageId, { notModified: notModifiedBy(request) })
    return sendDownload(request, reply, { ...download, contentType: 'message/rfc822' })
  })

  operation<{ Params: { messageId: string, attachmentId: string } }>(
    app, doc, 'GET', '/v1/messages/{messageId}/attachments/{attachmentId}', async (request, reply) => {
      const { messageId, attachmentId } = request.params
      const download = await service.openAttachment(callerOf(request), messageId, attachmentId, { notModified: notModifiedBy(request) })
      return sendDownload(request, reply, download, { disposition: true })
    })
}
