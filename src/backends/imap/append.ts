/**
 * APPEND with the message streamed into the literal, never held whole.
 *
 * imapflow's append() takes only a Buffer (it announces the literal's size
 * from the bytes it holds), so 10 concurrent 20 MB uploads would keep 200 MB
 * in memory. Here the command goes through imapflow's own queue (`exec`) with
 * a synchronizing literal `{size}` as its last token: the server's `+`
 * continuation comes back through exec's `onPlusTag`, and the source is
 * piped to the connection's socket chunk by chunk, with backpressure, then
 * the CRLF that ends the command. The synchronizing literal also lets the
 * server refuse (quota, size) before a byte of the message is sent.
 *
 * A source that fails or ends short mid-literal (the HTTP client went away)
 * cannot be finished on the wire: the connection is closed, and the server
 * discards the partial APPEND (RFC 3501 §6.3.11: the message is appended only
 * once the command completes). Never retried: a drop after the last byte may
 * come after the server stored the message.
 */
import type { Readable, Writable } from 'node:stream'
import type { ImapFlow } from 'imapflow'
import type { AccountContext } from '../../mail/backend.ts'
import { GatewayError } from '../../mail/errors.ts'
import type { AppendInput, Placed } from '../../mail/writers.ts'
import type { ImapConnections } from './connections.ts'
import { toGatewayError } from './errors.ts'
import { encodeMailboxPath, imapFlagOf } from './wire-names.ts'

interface Exec {
  exec: (command: string, attributes: unknown[], options?: { onPlusTag?: () => Promise<void> }) => Promise<{ response: { attributes?: unknown[] }, next: () => void }>
  writeSocket?: Writable | null
}

const CRLF = Buffer.from('\r\n')
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** RFC 3501 date-time, in UTC. */
function imapDateTime (iso: string): string {
  const d = new Date(iso)
  const p = (n: number): string => String(n).padStart(2, '0')
  return `${p(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]!}-${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`
}

/** Resolves on 'drain' or 'close', leaving no listener behind (a 20 MB literal waits hundreds of times). */
async function drainedOrClosed (socket: Writable): Promise<void> {
  await new Promise<void>(resolve => {
    const done = (): void => { socket.off('drain', done); socket.off('close', done); resolve() }
    socket.on('drain', done)
    socket.on('close', done)
  })
}

/** Writes `source` (exactly `size` octets) to `socket`, waiting for drain; `tick` on every chunk. */
async function pump (source: Readable, socket: Writable, size: number, tick: () => void): Promise<void> {
  let sent = 0
  for await (const chunk of source as AsyncIterable<Buffer>) {
    sent += chunk.length
    if (sent > size) throw new GatewayError('bad-request', 'the body is longer than its Content-Length')
    tick()
    if (!socket.write(chunk)) {
      await drainedOrClosed(socket)
      if (socket.destroyed) throw Object.assign(new Error('connection closed'), { code: 'NoConnection' })
    }
  }
  if (sent !== size) throw new GatewayError('bad-request', 'the body ended before its Content-Length')
  socket.write(CRLF)
}

/** The tagged OK's `[APPENDUID <validity> <uid>]` (UIDPLUS), if the server sent one. */
function appendUid (response: { attributes?: unknown[] }): { validity: string, uid: string } | null {
  const first = response.attributes?.[0] as { section?: Array<{ value?: unknown }> } | undefined
  const section = (first?.section ?? []).map(n => String(n?.value ?? ''))
  if (section[0]?.toUpperCase() !== 'APPENDUID') return null
  const [validity, uid] = [section[1] ?? '', section[2] ?? '']
  return /^[1-9]\d{0,9}$/.test(validity) && /^[1-9]\d{0,9}$/.test(uid) ? { validity, uid } : null
}

export async function appendMessage (conns: ImapConnections, ctx: AccountContext, mailbox: string, input: AppendInput, idleMs: number): Promise<Placed> {
  const size = input.size
  if (size === null) throw new GatewayError('bad-request', 'the message size must be known before it is sent')
  const lease = await conns.acquire(ctx.settings)
  const client = lease.resource as ImapFlow & Exec
  let failure: unknown
  let timedOut = false
  // an idle bound, not a total one: a large message from a slow caller keeps moving
  const timer = setTimeout(() => { timedOut = true; client.close() }, idleMs)
  const tick = (): void => { timer.refresh() }
  try {
    const flags = input.keywords.map(imapFlagOf)
    const attributes: unknown[] = [{ type: 'ATOM', value: encodeMailboxPath(client, mailbox) }]
    if (flags.length > 0 || input.receivedAt !== null) attributes.push(flags.map(value => ({ type: 'ATOM', value })))
    if (input.receivedAt !== null) attributes.push({ type: 'STRING', value: imapDateTime(input.receivedAt) })
    // the literal's size marker as raw text: its octets follow on the server's "+"
    attributes.push({ type: 'TEXT', value: `{${size}}` })
    const answer = await client.exec('APPEND', attributes, {
      onPlusTag: async () => {
        try {
          const socket = client.writeSocket
          if (socket === null || socket === undefined) throw Object.assign(new Error('connection closed'), { code: 'NoConnection' })
          await pump(input.source, socket, size, tick)
          tick()
        } catch (err) {
          failure = err
          client.close()
        }
      },
    })
    answer.next()
    conns.settle(lease)
    const placed = appendUid(answer.response)
    return { key: placed === null ? null : { mailbox, validity: placed.validity, key: placed.uid } }
  } catch (err) {
    // a refusal before the "+" leaves the body unread: the HTTP server discards it after the answer
    conns.settle(lease, failure ?? err)
    if (failure !== undefined) throw toGatewayError(failure)
    if (timedOut) throw new GatewayError('upstream-timeout', 'the mail server or the caller stalled during the APPEND')
    throw toGatewayError(err)
  } finally {
    clearTimeout(timer)
  }
}
