/**
 * A scripted in-process POP3 server (loopback, ephemeral port) for faults a
 * real server will not produce on demand: split packets, stalls, drops,
 * hostile replies, [IN-USE] and [LOGIN-DELAY]. It implements enough of
 * RFC 1939/2449/5034 (USER/PASS, AUTH PLAIN, CAPA, STAT, LIST, UIDL, TOP,
 * RETR, DELE, RSET, NOOP, QUIT) with a login-time snapshot and, optionally,
 * the maildrop lock.
 */
import net from 'node:net'

export interface FakeMessage {
  uid: string
  raw: Buffer
}

export type Handler = (cmd: string, args: string, session: FakeSession) => boolean | Promise<boolean>

export interface FakeServerOptions {
  messages?: FakeMessage[]
  users?: Record<string, string>
  capa?: string[]
  /** Enforce RFC 1939's exclusive maildrop lock: a second login gets -ERR [IN-USE]. */
  lock?: boolean
  /** Runs before the built-in command handling; return true when handled. */
  onCommand?: Handler
  greeting?: string
  /** Accept connections and never greet (nor answer). */
  silent?: boolean
}

/** Byte-stuffs a message and appends the terminator (RFC 1939 §3). */
export function stuff (raw: Buffer): Buffer {
  const parts: Buffer[] = []
  let lineStart = 0
  for (let i = 0; i <= raw.length; i++) {
    if (i === raw.length || (raw[i] === 10 && i > 0 && raw[i - 1] === 13)) {
      const end = i === raw.length ? i : i + 1
      const line = raw.subarray(lineStart, end)
      if (line.length > 0 && line[0] === 46) parts.push(Buffer.from('.'))
      parts.push(line)
      lineStart = end
    }
  }
  const body = Buffer.concat(parts)
  const needsCrlf = body.length > 0 && !(body.length >= 2 && body[body.length - 2] === 13 && body[body.length - 1] === 10)
  return Buffer.concat([body, Buffer.from(needsCrlf ? '\r\n.\r\n' : '.\r\n')])
}

export const delay = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

export class FakeSession {
  readonly socket: net.Socket
  readonly server: FakeServer
  user: string | null = null
  snapshot: FakeMessage[] = []
  deleted = new Set<number>()
  pendingUser: string | null = null

  constructor (socket: net.Socket, server: FakeServer) {
    this.socket = socket
    this.server = server
  }

  write (data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data)
  }

  /** Writes `data` in pieces split at `offsets`, pausing between them so they arrive as separate reads. */
  async writeSplit (data: Buffer, offsets: number[], gapMs = 3): Promise<void> {
    let prev = 0
    for (const at of [...offsets, data.length]) {
      if (at > prev) {
        this.write(data.subarray(prev, at))
        await delay(gapMs)
      }
      prev = Math.max(prev, at)
    }
  }

  message (arg: string): FakeMessage | null {
    const n = Number(arg)
    if (!Number.isInteger(n) || n < 1 || this.deleted.has(n)) return null
    return this.snapshot[n - 1] ?? null
  }
}

export class FakeServer {
  readonly messages: FakeMessage[]
  readonly users: Record<string, string>
  readonly options: FakeServerOptions
  readonly commands: string[] = []
  /** Command names in the order they arrived on the wire (before handling). */
  readonly received: string[] = []
  readonly sessions = new Set<FakeSession>()
  logins = 0
  connections = 0
  private readonly server = net.createServer(socket => this.accept(socket))
  private readonly locked = new Set<string>()

  constructor (options: FakeServerOptions = {}) {
    this.options = options
    this.messages = options.messages ?? []
    this.users = options.users ?? { alice: 'secret' }
  }

  get port (): number {
    return (this.server.address() as net.AddressInfo).port
  }

  async listen (): Promise<this> {
    await new Promise<void>(resolve => this.server.listen(0, '127.0.0.1', resolve))
    return this
  }

  async close (): Promise<void> {
    for (const s of this.sessions) s.socket.destroy()
    await new Promise<void>(resolve => this.server.close(() => resolve()))
  }

  /** Resolves when no session is logged in (lock released). */
  get openSessions (): number {
    return [...this.sessions].filter(s => s.user !== null).length
  }

  private accept (socket: net.Socket): void {
    socket.setNoDelay(true)
    socket.on('error', () => {})
    this.connections++
    const session = new FakeSession(socket, this)
    this.sessions.add(session)
    socket.on('close', () => {
      this.sessions.delete(session)
      if (session.user !== null) this.locked.delete(session.user)
    })
    if (this.options.silent === true) return
    session.write((this.options.greeting ?? '+OK fake POP3 ready') + '\r\n')
    let buf = ''
    let chain = Promise.resolve()
    socket.on('data', chunk => {
      buf += chunk.toString('latin1')
      let i: number
      while ((i = buf.indexOf('\r\n')) !== -1) {
        const line = buf.slice(0, i)
        buf = buf.slice(i + 2)
        this.received.push(line.split(' ')[0]?.toUpperCase() ?? '')
        chain = chain.then(() => this.handle(line, session)).catch(() => { socket.destroy() })
      }
    })
  }

  private async handle (line: string, s: FakeSession): Promise<void> {
    const sp = line.indexOf(' ')
    const cmd = (sp === -1 ? line : line.slice(0, sp)).toUpperCase()
    const args = sp === -1 ? '' : line.slice(sp + 1)
    this.commands.push(cmd === 'PASS' || cmd === 'AUTH' ? cmd : line)
    if (this.options.onCommand !== undefined && await this.options.onCommand(cmd, args, s)) return
    builtIn(this, s, cmd, args, this.locked)
  }
}

function login (server: FakeServer, s: FakeSession, user: string, pass: string, locked: Set<string>): void {
  server.logins++
  if (server.users[user] !== pass) return s.write('-ERR [AUTH] Authentication failed.\r\n')
  if (server.options.lock === true && locked.has(user)) return s.write('-ERR [IN-USE] Mailbox is locked by another session\r\n')
  locked.add(user)
  s.user = user
  s.snapshot = [...server.messages]
  s.write('+OK Logged in.\r\n')
}

function builtIn (server: FakeServer, s: FakeSession, cmd: string, args: string, locked: Set<string>): void {
  const w = (text: string): void => s.write(text + '\r\n')
  const multi = (lines: string[]): void => w(['+OK', ...lines, '.'].join('\r\n'))
  if (cmd === 'CAPA') return multi(server.options.capa ?? ['TOP', 'UIDL', 'USER', 'RESP-CODES', 'PIPELINING', 'SASL PLAIN'])
  if (cmd === 'QUIT') {
    if (s.user !== null) for (const n of [...s.deleted].sort((a, b) => b - a)) server.messages.splice(server.messages.indexOf(s.snapshot[n - 1] as FakeMessage), 1)
    w('+OK Bye')
    s.socket.end()
    return
  }
  if (s.user === null) {
    if (cmd === 'USER') { s.pendingUser = args; return w('+OK') }
    if (cmd === 'PASS') return login(server, s, s.pendingUser ?? '', args, locked)
    if (cmd === 'AUTH' && args.toUpperCase().startsWith('PLAIN ')) {
      const [, user = '', pass = ''] = Buffer.from(args.slice(6), 'base64').toString('utf8').split('\0')
      return login(server, s, user, pass, locked)
    }
    return w('-ERR Unknown command or not logged in')
  }
  const live = s.snapshot.map((m, i) => ({ m, n: i + 1 })).filter(({ n }) => !s.deleted.has(n))
  switch (cmd) {
    case 'STAT': return w(`+OK ${live.length} ${live.reduce((a, { m }) => a + m.raw.length, 0)}`)
    case 'LIST': return multi(live.map(({ m, n }) => `${n} ${m.raw.length}`))
    case 'UIDL': return multi(live.map(({ m, n }) => `${n} ${m.uid}`))
    case 'NOOP': return w('+OK')
    case 'RSET': s.deleted.clear(); return w('+OK')
    case 'DELE': {
      if (s.message(args) === null) return w('-ERR No such message')
      s.deleted.add(Number(args))
      return w('+OK Deleted')
    }
    case 'RETR': {
      const m = s.message(args)
      if (m === null) return w('-ERR No such message')
      s.write(Buffer.concat([Buffer.from(`+OK ${m.raw.length} octets\r\n`), stuff(m.raw)]))
      return
    }
    case 'TOP': {
      const [n = '', lines = '0'] = args.split(' ')
      const m = s.message(n)
      if (m === null) return w('-ERR No such message')
      const end = m.raw.indexOf('\r\n\r\n')
      const head = end === -1 ? m.raw : m.raw.subarray(0, end + 4)
      let body = end === -1 ? Buffer.alloc(0) : m.raw.subarray(end + 4)
      body = Buffer.from(body.toString('latin1').split('\r\n').slice(0, Number(lines)).map(l => l + '\r\n').join(''), 'latin1')
      s.write(Buffer.concat([Buffer.from('+OK\r\n'), stuff(Buffer.concat([head, body]))]))
      return
    }
  }
  w('-ERR Unknown command')
}

export async function startFakeServer (options: FakeServerOptions = {}): Promise<FakeServer> {
  return await new FakeServer(options).listen()
}
