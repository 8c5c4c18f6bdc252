/** Dovecot's stored bytes as IMAP BODY[] gives them (imapflow; no gateway code). */
import { ImapFlow } from 'imapflow'

export async function imapSources (port: number, user: { username: string, password: string }, ca: Buffer): Promise<Map<number, Buffer>> {
  const client = new ImapFlow({ host: '127.0.0.1', port, secure: false, tls: { ca }, auth: { user: user.username, pass: user.password }, logger: false })
  client.on('error', () => {})
  await client.connect()
  const out = new Map<number, Buffer>()
  try {
    const lock = await client.getMailboxLock('INBOX')
    try {
      for await (const msg of client.fetch('1:*', { uid: true, source: true })) {
        if (msg.source !== undefined) out.set(msg.uid, msg.source)
      }
    } finally { lock.release() }
  } finally { await client.logout() }
  return out
}
