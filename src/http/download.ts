/**
 * Streaming a Download to the client: headers first, then the upstream stream.
 * The upstream stream holds a mail-server connection until it ends, so it is
 * destroyed as soon as the client goes away; an upstream error after the
 * headers aborts the response (fastify destroys the socket) instead of hanging.
 */
import { Readable } from 'node:stream'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Download } from '../mail/service-types.ts'
import { ifNoneMatchHits } from './conditional.ts'

const IMMUTABLE = 'private, immutable, max-age=31536000'
const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=("[^"\r\n]*"|[A-Za-z0-9!#$&^_.+-]+))*$/

/** The service's content type when it is a well-formed media type, else octet-stream. */
export function safeContentType (value: string): string {
  const trimmed = value.trim()
  return trimmed.length <= 256 && MEDIA_TYPE.test(trimmed) ? trimmed : 'application/octet-stream'
}

/** RFC 5987 attr-char: everything else is percent-encoded. */
function encodeRfc5987 (value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase())
}

/**
 * `attachment; filename="<ascii fallback>"; filename*=UTF-8''<pct-encoded>` (RFC 6266).
 * Path separators, backslashes and control characters never survive; a quote
 * survives only percent-encoded in `filename*` (RFC 8187), the fallback has `_`.
 */
export function contentDisposition (filename: string | null): string {
  if (filename === null) return 'attachment'
  // eslint-disable-next-line no-control-regex
  const clean = filename.replace(/[\u0000-\u001f\u007f/\\]/g, '_').trim().slice(0, 255)
  if (clean === '') return 'attachment'
  const ascii = clean.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^\x20-\x7e]/g, '_').replace(/["']/g, '_')
  const fallback = `attachment; filename="${ascii}"`
  return ascii === clean ? fallback : `${fallback}; filename*=UTF-8''${encodeRfc5987(clean)}`
}

export interface SendOptions {
  /** Set Content-Disposition: attachment with this filename. */
  disposition?: boolean
}

/** For the service: is the caller's copy (If-None-Match) this content? Then nothing is opened upstream. */
export function notModifiedBy (request: FastifyRequest): (etag: string) => boolean {
  return (etag) => ifNoneMatchHits(request.headers['if-none-match'], etag)
}

export function sendDownload (request: FastifyRequest, reply: FastifyReply, download: Download, opts: SendOptions = {}): FastifyReply {
  const etag = download.etag
  reply.header('etag', etag).header('cache-control', IMMUTABLE)
  const { stream } = download
  if (stream === null) return reply.code(304).send()
  const release = (): void => { if (!stream.destroyed) stream.destroy() }

  // The client may have left while the service was opening the stream.
  if (request.raw.destroyed || reply.raw.destroyed) {
    release()
    return reply.send()
  }
  if (ifNoneMatchHits(request.headers['if-none-match'], etag)) {
    release()
    return reply.code(304).send()
  }
  reply.raw.once('close', release)

  reply.header('content-type', safeContentType(download.contentType))
  reply.header('x-content-type-options', 'nosniff')
  if (opts.disposition === true) reply.header('content-disposition', contentDisposition(download.filename))
  if (download.size !== null && Number.isSafeInteger(download.size) && download.size >= 0) {
    reply.header('content-length', download.size)
  }
  if (request.method === 'HEAD') {
    // the headers of the GET, and the upstream stream given back unread (an empty
    // stream keeps the Content-Length above; fastify would count an empty body as 0)
    release()
    return reply.send(Readable.from([]))
  }
  return reply.send(stream)
}
