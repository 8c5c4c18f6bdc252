/**
 * Independent reference readers: what Dovecot itself sends, fetched without
 * the gateway's code — imapflow for IMAP BODY[], and a deliberately naive
 * whole-buffer POP3 reader (RETR, cut at the final CRLF.CRLF, undo dot-stuffing).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { ImapFlow } from 'imapflow'

export function corpusFiles (root = new URL('../fixtures/corpus/', import.meta.url).pathname): string[] {
  const out: string[] = []
  for (const name of readdirSync(root).sort()) {
    const p = join(root, name)
    if (statSync(p).isDirectory()) out.push(...corpusFiles(p))
    else if (/\.(eml|raw|txt)$/.test(name)) out.push(p)
  }
  return out
}

export const readCorpus = (): Array<{ file: string, raw: Buffer }> => corpusFiles().map(file => ({ file, raw: readFileSync(file) }))

export async function imapSources (port: number, user: { username: string, password: string }, mailbox = 'INBOX'): Promise<Map<number, Buffer>> {
  const client = new ImapFlow({ host: '127.0.0.1', port, secure: false, doSTARTTLS: false, auth: { user: user.username, pass: user.password }, logger: false })
  client.on('error', () => {})
  await client.connect()
  const out = new Map<number, Buffer>()
  try {
    const lock = await client.getMailboxLock(mailbox)
    try {
      for await (const msg of client.fetch('1:*', { uid: true, source: true })) {
        if (msg.source !== undefined) out.set(msg.uid, msg.source)
      }
    } finally { lock.release() }
  } finally { await client.logout() }
  return out
}

/** All messages of a maildrop, in message-number order, with their UIDLs. */
export async function pop3Sources (port: number, user: { username: string, password: string }): Promise<Array<{ uidl: string, raw: Buffer }>> {
  const socket = connect(port, '127.0.0.1')
  let buf = Buffer.alloc(0)
  let waiter: (() => void) | null = null
  socket.on('data', (d: Buffer) => { buf = Buffer.concat([buf, d]); waiter?.() })
  socket.on('error', () => {})
  const until = async (done: (b: Buffer) => number): Promise<Buffer> => {
    for (;;) {
      const end = done(buf)
      if (end >= 0) { const out = buf.subarray(0, end); buf = buf.subarray(end); return out }
      await new Promise<void>((resolve, reject) => {
        waiter = resolve
        setTimeout(() => reject(new Error('pop3 reference reader timed out')), 10_000).unref()
      })
    }
  }
  const line = async (): Promise<string> => (await until(b => { const i = b.indexOf('\r\n'); return i < 0 ? -1 : i + 2 })).toString('latin1')
  const multi = async (): Promise<Buffer> => {
    const block = await until(b => {
      if (b.subarray(0, 3).toString() === '.\r\n') return 3
      const i = b.indexOf('\r\n.\r\n'); return i < 0 ? -1 : i + 5
    })
    const body = block.length === 3 ? Buffer.alloc(0) : block.subarray(0, block.length - 3)
    // undo dot-stuffing: a line starting with ".." loses one "."
    const text = body.toString('latin1').replace(/(^|\r\n)\.\./g, '$1.')
    return Buffer.from(text, 'latin1')
  }
  const cmd = async (c: string): Promise<string> => {
    socket.write(c + '\r\n')
    const l = await line()
    if (!l.startsWith('+OK')) throw new Error(`${c.split(' ')[0]} failed: ${l}`)
    return l
  }
  try {
    await line()
    await cmd(`USER ${user.username}`)
    await cmd(`PASS ${user.password}`)
    await cmd('UIDL')
    const uidls = (await multi()).toString('latin1').trim().split('\r\n').filter(Boolean).map(l => l.split(' ')[1] ?? '')
    const out: Array<{ uidl: string, raw: Buffer }> = []
    for (let n = 1; n <= uidls.length; n++) {
      await cmd(`RETR ${n}`)
      out.push({ uidl: uidls[n - 1]!, raw: await multi() })
    }
    await cmd('QUIT')
    return out
  } finally { socket.destroy() }
}
