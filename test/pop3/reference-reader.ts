/**
 * An independent reference for "Dovecot's bytes": a deliberately simple POP3
 * reader that shares no code with the gateway's client. It buffers every reply
 * whole, cuts at the terminator and undoes dot-stuffing line by line.
 */
import net from 'node:net'

export async function referenceRetrieveAll (port: number, user: { username: string, password: string }): Promise<Map<string, Buffer>> {
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  let buf = Buffer.alloc(0)
  let wake: (() => void) | null = null
  socket.on('data', (d: Buffer) => { buf = Buffer.concat([buf, d]); wake?.() })
  const take = async (find: () => number, skip: number): Promise<Buffer> => {
    const deadline = Date.now() + 10_000
    for (;;) {
      const at = find()
      if (at >= 0) {
        const out = buf.subarray(0, at)
        buf = buf.subarray(at + skip)
        return out
      }
      if (Date.now() > deadline) throw new Error('reference reader timed out')
      await new Promise<void>(resolve => { wake = resolve; setTimeout(resolve, 50) })
    }
  }
  const line = async (): Promise<string> => (await take(() => buf.indexOf('\r\n'), 2)).toString('latin1')
  const block = async (): Promise<Buffer> => {
    // The body starts right after the status line, so an empty body is just ".\r\n".
    const body = await take(() => buf.subarray(0, 3).equals(Buffer.from('.\r\n')) ? 0 : (i => i < 0 ? -1 : i + 2)(buf.indexOf('\r\n.\r\n')), 3)
    const lines: Buffer[] = []
    let start = 0
    while (start < body.length) {
      let end = body.indexOf('\r\n', start)
      end = end < 0 ? body.length : end + 2
      const l = body.subarray(start, end)
      lines.push(l[0] === 0x2e ? l.subarray(1) : l)
      start = end
    }
    return Buffer.concat(lines)
  }
  const cmd = async (c: string): Promise<void> => {
    socket.write(c + '\r\n')
    const reply = await line()
    if (!reply.startsWith('+OK')) throw new Error(`reference ${c.split(' ')[0]}: ${reply}`)
  }
  try {
    await line()
    await cmd(`USER ${user.username}`)
    await cmd(`PASS ${user.password}`)
    await cmd('UIDL')
    const uids = (await block()).toString('latin1').split('\r\n').filter(Boolean).map(l => l.split(' ')[1] ?? '')
    const out = new Map<string, Buffer>()
    for (let n = 1; n <= uids.length; n++) {
      await cmd(`RETR ${n}`)
      out.set(uids[n - 1] ?? '', await block())
    }
    await cmd('QUIT')
    return out
  } finally {
    socket.destroy()
  }
}
