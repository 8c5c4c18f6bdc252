/**
 * Requests Node's HTTP parser refuses before fastify sees them (header block
 * over the server's limit, malformed request line or headers) are answered
 * here, as problem+json like every other error: 431 `headers-too-large` or
 * 400 `bad-request`. The connection is closed after the answer: a stream that
 * failed to parse cannot be trusted for another request.
 */
import http from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { ERRORS, type ErrorCode } from '../mail/errors.ts'
import { problemOf } from './errors.ts'

/** Node's parser codes, each with the detail a caller is shown. */
function classify (code: string): { code: ErrorCode, detail: string } {
  if (code === 'HPE_HEADER_OVERFLOW') return { code: 'headers-too-large', detail: 'The request\'s header fields are over the server\'s limit' }
  return { code: 'bad-request', detail: 'The request is not well-formed HTTP/1.1' }
}

export function clientErrorHandler (this: FastifyInstance, err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    // the request never arrived whole: a bare 408 (nothing in the catalogue is about it)
    if (socket.writable) socket.write('HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
    socket.destroy(err)
    return
  }
  const { code, detail } = classify(err.code ?? '')
  const { status } = ERRORS[code]
  this.log.info({ code, status, parserCode: err.code }, 'request refused by the HTTP parser')
  if (socket.writable) {
    const body = JSON.stringify(problemOf(code, detail))
    socket.write(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\n` +
      'Content-Type: application/problem+json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy(err)
}
