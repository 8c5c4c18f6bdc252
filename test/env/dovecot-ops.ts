import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { anvilConnectionCount, trackConnections, type ConnectionTracker, type Protocol } from './dovecot-anvil.ts'
import type { DovecotInfo } from './dovecot-conf.ts'
import { HARNESS_ADDRESS, imapAppend, type AppendItem } from './imap-append.ts'

export interface TestUser { username: string, password: string }
export interface DeliverOptions { mailbox?: string, flags?: string[], date?: Date }
export interface Delivered { uidValidity: number, uid: number }
export type { ConnectionTracker, Protocol } from './dovecot-anvil.ts'

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
  /**
   * Samples connectionCount() every few ms in the background until stop(); `max` is the
   * highest count seen (for "never more than N sessions" assertions).
   */
  trackConnections: (username: string, protocol?: Protocol) => ConnectionTracker
  /** Successful logins of `username` so far (from the Dovecot log), harness sessions excluded. */
  loginCount: (username: string, protocol?: Protocol) => Promise<number>
  /** Logins of `username` refused for a wrong password so far (Dovecot's auth log), any protocol, SMTP AUTH through Postfix too. */
  passwordMismatchCount: (username: string) => Promise<number>
  /**
   * Gives an existing mailbox this UIDVALIDITY (`doveadm mailbox update`): two users with the
   * same one, where Dovecot would otherwise give each the second it created the mailbox.
   */
  setUidValidity: (username: string, mailbox: string, uidValidity: number) => Promise<void>
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

export function bindDovecotOps (info: DovecotInfo): DovecotOps {
  const connectionCount = async (username: string, protocol?: Protocol): Promise<number> =>
    await anvilConnectionCount(info.anvilSocket, username, protocol)
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
    trackConnections: (username, protocol) => trackConnections(info.anvilSocket, username, protocol),
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
    },
    passwordMismatchCount: async (username) => {
      const log = await readFile(info.logFile, 'utf8')
      // SASL lookups from Postfix carry no session id: "passwd-file(<user>,<ip>)"
      const re = /^\S+ \S+ \S+ auth: Info: passwd-file\(([^,]*),([^,)]*)(?:,[^)]*)?\): Password mismatch$/gm
      let count = 0
      for (const m of log.matchAll(re)) if (m[1] === username && m[2] !== HARNESS_ADDRESS) count++
      return count
    },
    setUidValidity: async (username, mailbox, uidValidity) => {
      await promisify(execFile)('doveadm', ['-c', info.configFile, 'mailbox', 'update', '-u', username, '--uid-validity', String(uidValidity), mailbox])
    }
  }
}
