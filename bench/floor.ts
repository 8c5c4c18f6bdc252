/**
 * The protocol floor for cold reads: the FETCH the gateway sends for one
 * uncached message (UID FETCH FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[]<0.256K>,
 * and for the few longer corpus messages a second UID FETCH of the rest), one
 * message at a time per connection, done straight with imapflow on `connections` warm, logged-in
 * TLS connections with INBOX already selected — no HTTP, no parse, no cache.
 * With `parse`, each message is then also normalised and serialised as the
 * gateway does it (parseMessage, JSON.stringify): the floor of a client that
 * needs what a cold GET returns, still without HTTP, cache or batching.
 */
import { ImapFlow } from 'imapflow'
import { FIRST_FETCH_PREFIX as PREFIX } from '../src/backends/imap/get-messages.ts'
import { parseMessage } from '../src/mail/normalise/index.ts'
import { runOps, type Measured } from './load.ts'

export interface FloorTarget { port: number, ca: Buffer, user: { username: string, password: string } }

async function warmClient ({ port, ca, user }: FloorTarget): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port,
    secure: true,
    tls: { ca: [ca], servername: 'localhost' },
    auth: { user: user.username, pass: user.password },
    logger: false,
  })
  client.on('error', () => {})
  await client.connect()
  await client.mailboxOpen('INBOX', { readOnly: true })
  return client
}

export async function imapFloor (target: FloorTarget, uids: number[], connections: number, opts: { parse?: boolean } = {}): Promise<Measured> {
  const clients = await Promise.all(Array.from({ length: connections }, () => warmClient(target)))
  try {
    return await runOps({
      workers: connections,
      amount: uids.length,
      op: async (i, worker) => {
        const client = clients[worker]!
        const uid = String(uids[i])
        const [m] = await client.fetchAll(uid, { uid: true, flags: true, internalDate: true, size: true, source: { start: 0, maxLength: PREFIX } }, { uid: true })
        if (m?.source === undefined) throw new Error(`no source for uid ${uid}`)
        let source = m.source
        if (m.source.length === PREFIX) {
          const [rest] = await client.fetchAll(uid, { uid: true, source: { start: PREFIX, maxLength: 8 * 1024 * 1024 } }, { uid: true })
          if (rest === undefined) throw new Error(`no rest for uid ${uid}`)
          if (rest.source !== undefined) source = Buffer.concat([source, rest.source])
        }
        if (opts.parse === true && JSON.stringify(await parseMessage(source)).length === 0) throw new Error(`nothing parsed for uid ${uid}`)
      },
    })
  } finally {
    await Promise.allSettled(clients.map(c => c.logout()))
  }
}
