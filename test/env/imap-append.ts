import { Wire } from './wire.ts'

export interface AppendItem { raw: Buffer, mailbox?: string, flags?: string[], date?: Date }

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** IMAP date-time (RFC 3501) in UTC. */
export function imapDate (d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0')
  return `${p(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]!}-${d.getUTCFullYear()} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`
}

/** Modified UTF-7 (RFC 3501 5.1.3) mailbox name, as a quoted string. */
export function imapMailbox (name: string): string {
  const encoded = name.replace(/&/g, '&-').replace(/[^\x20-\x7e]+/g, (run) => {
    const utf16 = Buffer.alloc(run.length * 2)
    for (let i = 0; i < run.length; i++) utf16.writeUInt16BE(run.charCodeAt(i), i * 2)
    return '&' + utf16.toString('base64').replace(/=+$/, '').replace(/\//g, ',') + '-'
  })
  return '"' + encoded.replace(/[\\"]/g, (c) => '\\' + c) + '"'
}

/** Source address of harness sessions, so connectionCount()/loginCount() can ignore them. */
export const HARNESS_ADDRESS = '127.0.0.2'
let harnessAddressWorks = true

async function openHarnessWire (port: number): Promise<Wire> {
  if (harnessAddressWorks) {
    try {
      return await Wire.open({ port, localAddress: HARNESS_ADDRESS })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') throw err
      harnessAddressWorks = false
    }
  }
  return await Wire.open({ port })
}

/**
 * Logs in over plain IMAP and APPENDs each message byte-for-byte (a LITERAL+ literal), creating
 * a missing mailbox on [TRYCREATE]. Returns the APPENDUID of every message.
 */
export async function imapAppend (port: number, user: { username: string, password: string },
  items: AppendItem[]): Promise<Array<{ uidValidity: number, uid: number }>> {
  const wire = await openHarnessWire(port)
  let n = 0
  const run = async (command: string, literal?: Buffer): Promise<string> => {
    const tag = `h${++n}`
    wire.write(literal === undefined ? `${tag} ${command}\r\n` : Buffer.concat([Buffer.from(`${tag} ${command}\r\n`), literal, Buffer.from('\r\n')]))
    const lines = await wire.readUntil((l) => l.startsWith(tag + ' '))
    return lines.at(-1)!.slice(tag.length + 1)
  }
  try {
    const greeting = await wire.readLine()
    if (!greeting.startsWith('* OK')) throw new Error(`unexpected greeting: ${greeting}`)
    const login = await run(`LOGIN "${user.username}" "${user.password.replace(/[\\"]/g, (c) => '\\' + c)}"`)
    if (!login.startsWith('OK')) throw new Error(`harness login failed for ${user.username}: ${login}`)
    const result: Array<{ uidValidity: number, uid: number }> = []
    for (const item of items) {
      const mailbox = imapMailbox(item.mailbox ?? 'INBOX')
      const flags = item.flags !== undefined && item.flags.length > 0 ? ` (${item.flags.join(' ')})` : ''
      const date = item.date !== undefined ? ` "${imapDate(item.date)}"` : ''
      const append = `APPEND ${mailbox}${flags}${date} {${item.raw.length}+}`
      let reply = await run(append, item.raw)
      if (reply.startsWith('NO [TRYCREATE]')) {
        const created = await run(`CREATE ${mailbox}`)
        if (!created.startsWith('OK')) throw new Error(`CREATE ${mailbox} failed: ${created}`)
        reply = await run(append, item.raw)
      }
      const m = /^OK \[APPENDUID (\d+) (\d+)\]/.exec(reply)
      if (m === null) throw new Error(`APPEND to ${mailbox} failed: ${reply}`)
      result.push({ uidValidity: Number(m[1]), uid: Number(m[2]) })
    }
    await run('LOGOUT').catch(() => '')
    return result
  } finally {
    wire.close()
  }
}
