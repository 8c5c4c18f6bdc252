// A scripted SMTP server for faults Postfix will not produce on demand (a connection cut mid-DATA).
import { createServer, type Server, type Socket } from 'node:net'

export interface FakeSmtp {
  port: number
  /** DATA commands answered with 354 so far. */
  dataCount: () => number
  close: () => Promise<void>
}

/**
 * Plain SMTP (no STARTTLS offered): EHLO, AUTH PLAIN/LOGIN accepted, MAIL and RCPT
 * accepted, DATA answered 354; then, once `cutAfter` octets of message text have
 * arrived, the connection is destroyed without a reply.
 */
export async function startFakeSmtp (opts: { cutAfter: number }): Promise<FakeSmtp> {
  let data = 0
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let inData = false
    let received = 0
    let pending = ''
    const reply = (line: string): void => { socket.write(line + '\r\n') }
    reply('220 fake ESMTP')
    socket.on('data', (chunk: Buffer) => {
      if (inData) {
        received += chunk.length
        if (received >= opts.cutAfter) socket.destroy()
        return
      }
      pending += chunk.toString('latin1')
      let i: number
      while ((i = pending.indexOf('\r\n')) >= 0) {
        const line = pending.slice(0, i)
        pending = pending.slice(i + 2)
        const verb = line.split(' ')[0]!.toUpperCase()
        if (verb === 'EHLO') reply('250-fake\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME')
        else if (verb === 'AUTH') reply('235 2.7.0 ok')
        else if (verb === 'MAIL' || verb === 'RCPT' || verb === 'RSET' || verb === 'NOOP') reply('250 ok')
        else if (verb === 'QUIT') { reply('221 bye'); socket.end() } else if (verb === 'DATA') {
          data++
          inData = true
          reply('354 go on')
          received = pending.length
          pending = ''
          if (received >= opts.cutAfter) socket.destroy()
          return
        } else reply('502 unknown')
      }
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no address')
  return {
    port: address.port,
    dataCount: () => data,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise(resolve => server.close(resolve))
    },
  }
}
