import { randomBytes } from 'node:crypto'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { connect } from 'node:net'
import type { DovecotInfo } from './dovecot-conf.ts'
import { HARNESS_ADDRESS, imapAppend, type AppendItem } from './imap-append.ts'

export interface TestUser { username: string, password: string }
export interface DeliverOptions { mailbox?: string, flags?: string[], date?: Date }
export interface Delivered { uidValidity: number, uid: number }
export type Protocol = 'imap' | 'pop3'

/** Test helpers of a harness Dovecot; all are plain functions of its JSON-safe DovecotInfo. */
export interface DovecotOps {
  /** Adds a passwd-file user (`<prefix>-<unique>`) with a random password; usable at once. */
  createUser: (prefix?: string) => Promise<TestUser>
  /**
   * Stores `raw` unchanged (IMAP APPEND literal) in `mailbox` (default INBOX, created if
   * missing) with the given flags and INTERNALDATE. Dovecot serves lines as CRLF.
   */
  deliver: (username: string, raw: Buffer, opts?: DeliverOptions) => Promise<Delivered>
  /** Several messages over one harness session, in order. */
  deliverMany: (username: string, items: AppendItem[]) => Promise<Delivered[]>
  /**
   * Logged-in sessions of `username` right now, as Dovecot's anvil counts them (the data
   * behind `doveadm who`): one per IMAP/POP3 session from login until the session process
   * ends. Connections still before login are not attributable to a user and are not counted;
   * the harness's own deliver() sessions are excluded.
   */
  connectionCount: (username: string, protocol?: Protocol) => Promise<number>
  /** Polls connectionCount() until `until(count)` holds; returns the last count or throws. */
  waitForConnections: (username: string, until: (count: number) => boolean, timeoutMs?: number) => Promise<number>
  /** Successful logins of `username` so far (from the Dovecot log), harness sessions excluded. */
  loginCount: (username: string, protocol?: Protocol) => Promise<number>
}

let counter = 0

function safePrefix (prefix: string): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 24)
  return clean === '' ? 'user' : clean
}

async function passwordOf (info: DovecotInfo, username: string): Promise<string> {
  const line = await readFile(join(info.usersDir, username), 'utf8').catch(() => '')
  const m = /^[^:]+:\{PLAIN\}([^:\n]*)/.exec(line)
  if (m?.[1] === undefined) throw new Error(`no harness user ${username}`)
  return m[1]
}

/** Raw `CONNECT-DUMP` of anvil: one `service/ip/user\tpid\trefcount` line per session. */
async function anvilDump (info: DovecotInfo): Promise<string[]> {
  return await new Promise((resolve, reject) => {
    const socket = connect(info.anvilSocket)
    let data = ''
    socket.setTimeout(3000, () => socket.destroy(new Error('anvil did not answer')))
    socket.on('error', reject)
    socket.on('data', (chunk) => {
      data += chunk.toString('utf8')
      if (data === '\n' || data.endsWith('\n\n')) {
        socket.end()
        resolve(data.split('\n').filter((l) => l !== ''))
      }
    })
    socket.write('VERSION\tanvil\t1\t0\nCONNECT-DUMP\n')
  })
}

export function bindDovecotOps (info: DovecotInfo): DovecotOps {
  const connectionCount = async (username: string, protocol?: Protocol): Promise<number> => {
    let count = 0
    for (const line of await anvilDump(info)) {
      const [ident = '', , refs = '0'] = line.split('\t')
      const [service, ip, ...user] = ident.split('/')
      if (user.join('/') !== username || ip === HARNESS_ADDRESS) continue
      if (protocol !== undefined && service !== protocol) continue
      count += Number(refs)
    }
    return count
  }
  const deliverMany = async (username: string, items: AppendItem[]): Promise<Delivered[]> =>
    await imapAppend(info.ports.imap, { username, password: await passwordOf(info, username) }, items)
  return {
    createUser: async (prefix = 'user') => {
      const username = `${safePrefix(prefix)}-${process.pid.toString(36)}${(++counter).toString(36)}${randomBytes(3).toString('hex')}`
      const password = randomBytes(12).toString('base64url')
      // Written aside and renamed in, so Dovecot never reads a partial file.
      const file = join(info.usersDir, username)
      await writeFile(`${file}.tmp`, `${username}:{PLAIN}${password}\n`, { mode: 0o644 })
      await rename(`${file}.tmp`, file)
      return { username, password }
    },
    deliver: async (username, raw, opts = {}) => {
      const [delivered] = await deliverMany(username, [{ raw, ...opts }])
      return delivered!
    },
    deliverMany,
    connectionCount,
    waitForConnections: async (username, until, timeoutMs = 5000) => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const count = await connectionCount(username)
        if (until(count)) return count
        if (Date.now() > deadline) throw new Error(`connections of ${username} stuck at ${count}`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    },
    loginCount: async (username, protocol) => {
      const log = await readFile(info.logFile, 'utf8')
      const re = /^\S+ \S+ \S+ (imap|pop3)-login: Info: Login: user=<([^>]*)>.*? rip=([^,]+),/gm
      let count = 0
      for (const m of log.matchAll(re)) {
        if (m[2] === username && m[3] !== HARNESS_ADDRESS && (protocol === undefined || m[1] === protocol)) count++
      }
      return count
    }
  }
}
