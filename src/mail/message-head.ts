/**
 * Whether a body about to be appended is a message at all (RFC 5322: it
 * starts with a header field), told from its first line before anything is
 * sent upstream, without reading the rest: the bytes looked at are handed on
 * in front of the untouched remainder.
 */
import { Readable } from 'node:stream'
import { GatewayError } from './errors.ts'

/** A header field line's start: a field name (printable ASCII but ":") and a colon. */
const FIELD = /^[\x21-\x39\x3b-\x7e]+[ \t]*:/
/** RFC 5322 §2.1.1: a line is at most 998 octets. */
const MAX_LINE = 998

export async function checkedMessage (body: Readable): Promise<Readable> {
  const it = (body as AsyncIterable<Buffer>)[Symbol.asyncIterator]()
  const seen: Buffer[] = []
  let length = 0
  let done = false
  while (length <= MAX_LINE) {
    const next = await it.next()
    if (next.done === true) { done = true; break }
    seen.push(next.value)
    length += next.value.length
    if (next.value.includes(0x0a)) break
  }
  const head = Buffer.concat(seen)
  const lf = head.indexOf(0x0a)
  const firstLine = head.subarray(0, lf < 0 ? Math.min(head.length, MAX_LINE + 1) : lf).toString('latin1')
  // the rest is left unread (not destroyed: that would cut the connection the answer goes back on)
  if (!FIELD.test(firstLine)) {
    throw new GatewayError('bad-request', 'the body is not a message: it must start with a header field (message/rfc822)')
  }
  async function * rest (): AsyncGenerator<Buffer> {
    yield head
    if (done) return
    for (let next = await it.next(); next.done !== true; next = await it.next()) yield next.value
  }
  return Readable.from(rest(), { objectMode: false })
}
