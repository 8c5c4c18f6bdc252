// Reads what Postfix delivered, with the harness's raw IMAP session (never the gateway's code).
import type { TestUser } from '../env/dovecot-ops.ts'
import { fetchRaw, imapSession } from '../env/sessions.ts'

export interface Stored { uid: number, flags: string, raw: Buffer }

/** Every message in `mailbox` now, oldest first, with its FLAGS and BODY[] bytes. */
export async function readMailbox (port: number, user: TestUser, mailbox = 'INBOX'): Promise<Stored[]> {
  const wire = await imapSession(port, user)
  try {
    await wire.run(`EXAMINE "${mailbox}"`)
    const search = (await wire.run('UID SEARCH ALL')).find(l => l.startsWith('* SEARCH')) ?? '* SEARCH'
    const uids = search.split(' ').slice(2).filter(Boolean).map(Number)
    const out: Stored[] = []
    for (const uid of uids) {
      const { meta, body } = await fetchRaw(wire, uid)
      out.push({ uid, flags: /FLAGS \(([^)]*)\)/.exec(meta)?.[1] ?? '', raw: body })
    }
    return out
  } finally { wire.close() }
}

/** Polls until `mailbox` holds at least `count` messages (Postfix delivers after answering). */
export async function waitForMail (port: number, user: TestUser, count = 1, mailbox = 'INBOX', timeoutMs = 30_000): Promise<Stored[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const got = await readMailbox(port, user, mailbox)
    if (got.length >= count) return got
    if (Date.now() > deadline) throw new Error(`${user.username}'s ${mailbox} holds ${got.length} messages, not ${count}, after ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

/** The header block of a raw message, unfolded, as name (lower-case) → values. */
export function headersOf (raw: Buffer): Map<string, string[]> {
  const text = raw.toString('utf8')
  const end = text.search(/\r?\n\r?\n/)
  const block = text.slice(0, end).replace(/\r?\n[ \t]+/g, ' ')
  const out = new Map<string, string[]>()
  for (const line of block.split(/\r?\n/)) {
    const i = line.indexOf(':')
    const name = line.slice(0, i).trim().toLowerCase()
    out.set(name, [...(out.get(name) ?? []), line.slice(i + 1).trim()])
  }
  return out
}
