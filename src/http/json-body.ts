/**
 * Serialised JSON bodies for resources the service hands out repeatedly as the
 * same frozen object (a cached message is presented once per cached record, see
 * presentMessageOnce): such an object is serialised and UTF-8 encoded once, and
 * later responses send those bytes. Keyed weakly by the object, so a body lives
 * exactly as long as the service keeps the resource, and is never shared
 * between two resources (or accounts).
 */
import type { FastifyReply } from 'fastify'

const bodies = new WeakMap<object, Buffer>()

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8'

/** The JSON bytes of a resource; memoised only for frozen (never-changing) objects. */
export function jsonBody (resource: object): Buffer {
  let body = bodies.get(resource)
  if (body === undefined) {
    body = Buffer.from(JSON.stringify(resource))
    if (Object.isFrozen(resource)) bodies.set(resource, body)
  }
  return body
}

/** Sends a resource as JSON through the memo (fastify sends a Buffer as is). */
export function sendJson (reply: FastifyReply, resource: object): FastifyReply {
  return reply.header('content-type', JSON_CONTENT_TYPE).send(jsonBody(resource))
}
