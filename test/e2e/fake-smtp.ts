// A scripted SMTP server for faults Postfix will not produce on demand (a connection cut
// mid-DATA, a server that offers neither 8BITMIME nor SMTPUTF8).
import { createServer, type Server, type Socket } from 'node:net'

export interface FakeSmtp {
  port: number
  /** DATA commands answered with 354 so far. */
  dataCount: () => number
  /** MAIL and RCPT command lines as received (bytes read as UTF-8). */
  commands: string[]
  /** Every complete message text received (dot-unstuffed, without the final dot line). */
  messages: Buffer[]
  close: () => Promise<void>
}

/**
 * Plain SMTP (no STARTTLS offered): EHLO, AUTH PLAIN/LOGIN accepted, MAIL and RCPT
 * accepted, DATA answered 354; then, once `cutAfter` octets of message text have
 * arrived, the connection is destroyed without a reply. Without `cutAfter` the
 * message is read to its final dot and answered 250. `eightBit: false` offers
 * neither 8BITMIME nor SMTPUTF8 and answers a MAIL or RCPT with a non-ASCII
 * byte 553 5.6.7, as a server without SMTPUTF8 does (RFC 6531 §3.2).
 */
export async function startFakeSmtp (opts: { cutAfter?: number, eightBit?: boolean } = {}): Promise<FakeSmtp> {
  const cutAfter = opts.cutAfter ?? Infinity
  const eightBit = opts.eightBit ?? true
  const commands: string[] = []
  const messages: Buffer[] = []
  let data = 0
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let inData = false
    let received = 0
    let pending = ''
    let text = Buffer.alloc(0)
    const reply = (line: string): void => { socket.write(line + '\r\n') }
    reply('220 fake ESMTP')
    const endOfData = (): boolean => {
      const end = text.indexOf('\r\n.\r\n')
      if (end < 0) return false
      const body = text.subarray(0, end + 2).toString('latin1').replace(/^\.\./gm, '.')
      messages.push(Buffer.from(body, 'latin1'))
      pending = text.subarray(end + 5).toString('latin1')
      text = Buffer.alloc(0)
      inData = false
      reply('250 2.0.0 queued')
      return true
    }
    const onData = (chunk: Buffer): void => {
      if (inData) {
        received += chunk.length
        if (received >= cutAfter) { socket.destroy(); return }
        text = Buffer.concat([text, chunk])
        if (!endOfData()) return
        chunk = Buffer.alloc(0)
      }
      pending += chunk.toString('latin1')
      let i: number
      while ((i = pending.indexOf('\r\n')) >= 0) {
        const line = pending.slice(0, i)
        pending = pending.slice(i + 2)
        const verb = line.split(' ')[0]!.toUpperCase()
        if (verb === 'MAIL' || verb === 'RCPT') commands.push(Buffer.from(line, 'latin1').toString('utf8'))
        if (verb === 'EHLO') reply('250-fake\r\n250-AUTH PLAIN LOGIN' + (eightBit ? '\r\n250 8BITMIME' : '\r\n250 HELP'))
        else if (verb === 'AUTH') reply('235 2.7.0 ok')
        else if ((verb === 'MAIL' || verb === 'RCPT') && !eightBit && /[\x80-\xff]/.test(line)) reply('553 5.6.7 non-ASCII address without SMTPUTF8')
        else if (verb === 'MAIL' || verb === 'RCPT' || verb === 'RSET' || verb === 'NOOP') reply('250 ok')
        else if (verb === 'QUIT') { reply('221 bye'); socket.end() } else if (verb === 'DATA') {
          data++
          inData = true
          reply('354 go on')
          text = Buffer.from(pending, 'latin1')
          received = text.length
          pending = ''
          if (received >= cutAfter) { socket.destroy(); return }
          if (endOfData()) continue
          return
        } else reply('502 unknown')
      }
    }
    socket.on('data', onData)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no address')
  return {
    port: address.port,
    dataCount: () => data,
    commands,
    messages,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise(resolve => server.close(resolve))
    },
  }
}
