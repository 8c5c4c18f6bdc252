/**
 * A scripted in-process IMAP server (loopback, ephemeral port) for replies a
 * real server will not give on demand: refusals with arbitrary text, stalls
 * mid-literal. It logs in anyone and answers what imapflow asks while
 * connecting (CAPABILITY, NAMESPACE, the delimiter LIST); `onCommand` answers
 * the rest, and anything it leaves gets `OK`.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net'

/** Return true when the command was answered. `line` is the whole line without its tag. */
export type ImapHandler = (tag: string, verb: string, line: string, socket: Socket) => boolean

export interface FakeImapServer {
  port: number
  /** Every command line received, tags removed. */
  commands: string[]
  close: () => Promise<void>
}

const CAPABILITY = 'IMAP4rev1 AUTH=PLAIN'

/** `silent`: accept connections and never say a word (no greeting). */
export async function startFakeImap (onCommand: ImapHandler = () => false, opts: { silent?: boolean } = {}): Promise<FakeImapServer> {
  const sockets = new Set<Socket>()
  const commands: string[] = []
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    if (opts.silent === true) return
    socket.write(`* OK [CAPABILITY ${CAPABILITY}] fake ready\r\n`)
    let buffer = ''
    socket.on('data', (data) => {
      buffer += data.toString('latin1')
      let nl: number
      while ((nl = buffer.indexOf('\r\n')) >= 0) {
        const full = buffer.slice(0, nl)
        buffer = buffer.slice(nl + 2)
        const sp = full.indexOf(' ')
        const tag = full.slice(0, sp)
        const line = full.slice(sp + 1)
        const verb = (line.split(' ')[0] ?? '').toUpperCase()
        commands.push(line)
        if (onCommand(tag, verb, line, socket)) continue
        if (verb === 'CAPABILITY') socket.write(`* CAPABILITY ${CAPABILITY}\r\n`)
        // imapflow asks LIST "" "" for the delimiter while connecting
        if (verb === 'LIST' && line.endsWith('"" ""')) socket.write('* LIST (\\Noselect) "/" ""\r\n')
        if (verb === 'NAMESPACE') socket.write('* NAMESPACE (("" "/")) NIL NIL\r\n')
        if (verb === 'LOGOUT') socket.write('* BYE bye\r\n')
        socket.write(`${tag} OK done\r\n`)
      }
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    commands,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise(resolve => server.close(resolve))
    },
  }
}
