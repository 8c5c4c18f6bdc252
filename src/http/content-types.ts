/**
 * What request bodies the REST face reads: JSON only. fastify's text/plain
 * parser is removed, so a text or form body is `415 unsupported-media-type`
 * ("Content-Type must be application/json"), not a schema complaint about a
 * string. An empty body sent as application/json is no body at all on an
 * operation that takes none (a client that sets the header on every call can
 * still DELETE /v1/sessions/current); where a body is required it stays a 400.
 */
import type { FastifyInstance } from 'fastify'

export function restContentTypes (rest: FastifyInstance): void {
  const json = rest.getDefaultJsonParser('error', 'error')
  rest.removeContentTypeParser(['application/json', 'text/plain'])
  rest.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' && request.routeOptions.schema?.body === undefined) {
      done(null, undefined)
      return
    }
    json(request, String(body), done)
  })
}
