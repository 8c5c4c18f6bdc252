/**
 * A large resource sent as JSON in pieces. JSON.stringify of a message whose
 * bodies are control characters is six times their UTF-8 (each escapes to
 * `\u0001`): 25 MB for two 2 MiB bodies, held twice (the string and its bytes)
 * by every response in flight. Written piece by piece, with the socket's
 * backpressure, a response holds one piece of its JSON at a time, whatever
 * the body and however many are sent at once.
 */
import { Readable } from 'node:stream'
import type { FastifyReply } from 'fastify'
import { isLargeRecord } from '../mail/large-records.ts'
import type { Message } from '../mail/types.ts'
import { JSON_CONTENT_TYPE, sendJson } from './json-body.ts'

/** UTF-16 units of a string escaped per piece: at most 96 KiB of JSON. */
const PIECE_CHARS = 16 * 1024

/** The JSON of a flat object, piece by piece: long strings are cut, everything else is written whole. */
export function * jsonPieces (resource: object): Generator<string> {
  let out = '{'
  let first = true
  for (const [key, value] of Object.entries(resource)) {
    if (value === undefined) continue
    out += `${first ? '' : ','}${JSON.stringify(key)}:`
    first = false
    if (typeof value !== 'string' || value.length <= PIECE_CHARS) {
      out += JSON.stringify(value)
      continue
    }
    yield out + '"'
    for (let i = 0; i < value.length;) {
      let end = Math.min(value.length, i + PIECE_CHARS)
      // a surrogate pair stays in one piece (split, each half would be escaped alone)
      if (end < value.length && (value.charCodeAt(end - 1) & 0xfc00) === 0xd800) end--
      yield JSON.stringify(value.slice(i, end)).slice(1, -1)
      i = end
    }
    out = '"'
  }
  yield out + '}'
}

/** Sends a message as JSON: through the memo when small, in pieces when its bodies are large. */
export function sendMessageJson (reply: FastifyReply, message: Message): FastifyReply {
  if (!isLargeRecord(message)) return sendJson(reply, message)
  const pieces = jsonPieces(message)
  return reply.header('content-type', JSON_CONTENT_TYPE).send(Readable.from(pieces, { objectMode: false }))
}
