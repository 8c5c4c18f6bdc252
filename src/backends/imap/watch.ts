/**
 * The watch connection of one account (MailBackend.watch): its own imapflow
 * connection, held beside the request pool but counted in the account's
 * connection cap (ImapConnections.hold), that
 *
 * - EXAMINEs INBOX and IDLEs there: every EXISTS, EXPUNGE or FETCH the server
 *   pushes is a hint that INBOX changed;
 * - breaks IDLE at least every `MAX_IDLE_MS` (servers drop an IDLE after
 *   about 30 minutes, some much sooner) and every poll interval, to LIST the
 *   mailboxes and STATUS the subscribed ones — a STATUS that moved is a hint;
 * - answers each break within the command deadline, or is closed: an IDLE
 *   connection that died silently is found at the next break.
 *
 * What changed is never read here: the core asks `changes` on pooled
 * connections. This connection only says when to ask.
 */
import type { ImapFlow, ListResponse } from 'imapflow'
import type { AccountContext } from '../../mail/backend.ts'
import type { PolledMailbox, WatchListener, WatchSession, WatchSessionOptions } from '../../mail/watch-source.ts'
import type { ImapConnections } from './connections.ts'
import { toGatewayError } from './errors.ts'
import { roleOf } from './mailboxes.ts'
import { createSession, type ImapSession } from './session.ts'

/** IDLE is re-issued at least this often (RFC 2177 allows 29 min; some servers stop pushing sooner). */
export const MAX_IDLE_MS = 5 * 60_000
const WATCHED = 'INBOX'

function signatureOf (s: { uidValidity?: bigint, uidNext?: number, messages?: number, highestModseq?: bigint }): string {
  return [s.uidValidity, s.uidNext, s.messages, s.highestModseq].map(v => v?.toString() ?? '').join(':')
}

async function poll (session: ImapSession): Promise<PolledMailbox[]> {
  const entries: ListResponse[] = await session.cmd(session.client.list())
  const polled: PolledMailbox[] = []
  const hasModseq = session.client.capabilities.has('CONDSTORE') || session.client.capabilities.has('QRESYNC')
  for (const entry of entries) {
    if (entry.flags.has('\\Noselect') || entry.flags.has('\\NonExistent')) continue
    const record = {
      path: entry.path,
      name: entry.name,
      parentPath: entry.parentPath === '' ? null : entry.parentPath,
      role: roleOf(entry),
      totalEmails: 0,
      unreadEmails: null,
      isSubscribed: entry.subscribed === true,
    }
    let signature: string | null = null
    if (record.isSubscribed && entry.path.toUpperCase() !== WATCHED) {
      const status = await session.cmd(session.client.status(entry.path, { uidValidity: true, uidNext: true, messages: true, highestModseq: hasModseq }))
      if (status !== false) {
        signature = signatureOf(status)
        record.totalEmails = status.messages ?? 0
      }
    }
    polled.push({ record, signature })
  }
  return polled
}

/** A delay that ends early when `wake` is called. */
function sleeper (): { sleep: (ms: number) => Promise<void>, wake: () => void } {
  let wake = (): void => {}
  return {
    sleep: (ms) => new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done (): void {
        clearTimeout(timer)
        resolve()
      }
      wake = done
    }),
    wake: () => { wake() },
  }
}

export async function openWatch (conns: ImapConnections, timeoutMs: number, ctx: AccountContext, listener: WatchListener, opts: WatchSessionOptions): Promise<WatchSession> {
  const cycleMs = Math.min(opts.pollMs, MAX_IDLE_MS)
  // the socket may be quiet for a whole IDLE; imapflow then probes it with a NOOP
  const lease = await conns.hold(ctx.settings, cycleMs + timeoutMs)
  const client: ImapFlow = lease.resource
  const session = createSession(client, timeoutMs)
  const run = { closing: false }
  let settle: (err: unknown) => void = () => {}
  const ended = new Promise<unknown>((resolve) => { settle = resolve })
  const finish = (err: unknown): void => {
    settle(run.closing ? null : err)
    lease.destroy()
  }
  client.once('close', () => { finish(toGatewayError(Object.assign(new Error('watch connection closed'), { code: 'NoConnection' }))) })
  const hint = (event: { path?: string }): void => { if (event.path !== undefined) listener.changed(event.path) }
  client.on('exists', hint)
  client.on('expunge', hint)
  client.on('flags', hint)
  try {
    await session.cmd(client.mailboxOpen(WATCHED, { readOnly: true }))
    listener.connected()
    listener.listed(await poll(session))
  } catch (err) {
    run.closing = true
    lease.destroy()
    throw toGatewayError(err)
  }

  const { sleep, wake } = sleeper()
  const close = async (): Promise<void> => {
    if (run.closing) return await ended.then(() => {})
    run.closing = true
    wake()
    // LOGOUT ends the IDLE (imapflow sends DONE first); the pool closes the socket
    try {
      if (client.usable) await session.cmd(client.logout())
    } catch {
      // going away anyway
    }
    client.close()
    await ended
  }
  const loop = async (): Promise<void> => {
    let polledAt = Date.now()
    // a connection past CONNECTION_MAX_AGE_MS logs out: the watcher logs in again, so a
    // password changed on the server stops it as it stops pooled connections
    while (!run.closing && client.usable && !conns.expired(client)) {
      const idling = client.idle().catch(() => false)
      await sleep(cycleMs)
      if (run.closing) break
      // any command breaks IDLE (DONE) first; each is bounded by the command deadline
      if (Date.now() - polledAt >= opts.pollMs) {
        listener.listed(await poll(session))
        polledAt = Date.now()
      } else {
        await session.cmd(client.noop())
      }
      await idling
    }
    if (client.usable) await close()
  }
  loop().catch((err: unknown) => {
    client.close()
    finish(toGatewayError(err))
  })

  return { ended, close }
}
