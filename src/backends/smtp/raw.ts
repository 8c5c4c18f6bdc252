/**
 * A raw message/rfc822 body to send as given, except that its `Bcc` header
 * field is removed (RFC 5322 §3.6.3: blind recipients are in the envelope
 * only). The header block is read (at most 256 KiB) to find the envelope:
 * MAIL FROM from Sender or else From, RCPT TO from To, Cc and Bcc. A message
 * without a Message-ID gets one (RFC 6409 §8.3), so the answer can name it.
 * The body is streamed on into the spool untouched.
 */
import { randomUUID } from 'node:crypto'
import type { Readable } from 'node:stream'
import addressparser from 'nodemailer/lib/addressparser/index.js'
import { GatewayError } from '../../mail/errors.ts'
import type { PreparedMessage } from '../../mail/send-port.ts'
import { isAddress } from '../../mail/send-input.ts'
import { spool } from './spool.ts'

const MAX_HEADER = 256 * 1024

interface Field { name: string, lines: string }

function bad (detail: string): never {
  throw new GatewayError('bad-request', detail)
}

/** Splits a header block (without its blank line) into fields, continuation lines kept with theirs. */
function fields (block: string): Field[] {
  const out: Field[] = []
  for (const line of block.split(/(?<=\n)/)) {
    if (/^[ \t]/.test(line) && out.length > 0) { out[out.length - 1]!.lines += line; continue }
    const colon = line.indexOf(':')
    if (colon < 1) bad('the body is not a message: its header block has a line that is not a header field')
    out.push({ name: line.slice(0, colon).trim().toLowerCase(), lines: line })
  }
  return out
}

function emailsOf (field: Field): string[] {
  // the block is kept as latin1 (byte for byte); addresses may be UTF-8 (SMTPUTF8)
  const text = Buffer.from(field.lines, 'latin1').toString('utf8')
  const value = text.slice(text.indexOf(':') + 1).replace(/\r?\n[ \t]/g, ' ').trim()
  const flat = (list: addressparser.AddressOrGroup[]): string[] =>
    list.flatMap(a => 'group' in a && a.group !== undefined ? flat(a.group) : [(a as addressparser.Address).address])
  return flat(addressparser(value)).filter(e => e !== '')
}

async function splitHeader (body: Readable): Promise<{ head: string, eol: string, rest: AsyncIterator<Buffer>, first: Buffer }> {
  const it = (body as AsyncIterable<Buffer>)[Symbol.asyncIterator]()
  let buffered = Buffer.alloc(0)
  for (;;) {
    const crlf = buffered.indexOf('\r\n\r\n')
    const lf = buffered.indexOf('\n\n')
    const end = crlf >= 0 && (lf < 0 || crlf < lf) ? { at: crlf, eol: '\r\n' } : lf >= 0 ? { at: lf, eol: '\n' } : null
    if (end !== null) {
      const cut = end.at + end.eol.length
      return { head: buffered.subarray(0, cut).toString('latin1'), eol: end.eol, rest: it, first: buffered.subarray(cut) }
    }
    if (buffered.length > MAX_HEADER) bad(`the message's header block is longer than ${MAX_HEADER} octets`)
    const next = await it.next()
    if (next.done === true) bad('the body is not a message: no blank line ends its header block')
    buffered = Buffer.concat([buffered, next.value])
  }
}

export async function prepareRaw (body: Readable, limit: number): Promise<PreparedMessage> {
  const { head, eol, rest, first } = await splitHeader(body)
  const all = fields(head)
  const emails = (names: string[]): string[] => all.filter(f => names.includes(f.name)).flatMap(emailsOf)
  const from = emails(['sender'])[0] ?? emails(['from'])[0]
  if (from === undefined || !isAddress(from)) bad('the message needs a From (or Sender) header field with an email address')
  const to = [...new Set(emails(['to', 'cc', 'bcc']))]
  for (const e of to) if (!isAddress(e)) bad(`"${e.slice(0, 80)}" is not a valid email address`)
  const existing = all.find(f => f.name === 'message-id')
  const kept = all.filter(f => f.name !== 'bcc').map(f => f.lines)
  let messageId: string
  if (existing === undefined) {
    messageId = `<${randomUUID()}@${from.slice(from.lastIndexOf('@') + 1).replace(/[^A-Za-z0-9.-]/g, '') || 'mail-gateway.invalid'}>`
    kept.unshift(`Message-ID: ${messageId}${eol}`)
  } else {
    const value = existing.lines.slice(existing.lines.indexOf(':') + 1).trim()
    messageId = /<[^<>\s]+>/.exec(value)?.[0] ?? value
  }
  // `first` starts with the blank line that ends the block
  const header = Buffer.from(kept.join(''), 'latin1')
  async function * whole (): AsyncGenerator<Buffer> {
    yield header
    if (first.length > 0) yield first
    for (let next = await rest.next(); next.done !== true; next = await rest.next()) yield next.value
  }
  const spooled = await spool(whole(), limit)
  return { envelope: { from, to }, messageId, ...spooled }
}
