/**
 * What an operation sees while it holds a lease: the client, a per-command
 * deadline, and the mailbox lock taken and released around its work.
 */
import type { ImapFlow } from 'imapflow'
import { GatewayError } from '../../mail/errors.ts'
import { UpstreamRefusal } from './errors.ts'
import { withDeadline } from '../deadline.ts'

export interface ImapSession {
  readonly client: ImapFlow
  /** Bound one command by the per-command timeout; on expiry the connection is closed. */
  cmd: <T>(work: Promise<T>) => Promise<T>
  /**
   * Open `path` under imapflow's mailbox lock — read-only (EXAMINE), or
   * read-write (SELECT) for a write — run `fn` with the mailbox's UIDVALIDITY
   * as a decimal string, release in finally.
   */
  inMailbox: <T>(path: string, fn: (validity: string) => Promise<T>, opts?: LockOptions) => Promise<T>
  /** Same, but the caller releases the lock (a stream that outlives the call). */
  lockMailbox: (path: string, opts?: LockOptions) => Promise<{ validity: string, release: () => void }>
  /** NOOP: learn what other clients changed since this connection's last sync point. */
  sync: () => Promise<void>
}

export interface LockOptions {
  /**
   * Sync (NOOP) a mailbox that is still selected from an earlier lease. Default
   * true; reads by UID may skip it and sync only when a UID is missing.
   */
  sync?: boolean
  /**
   * Open read-write (SELECT) for a write. Default false: reads EXAMINE, so
   * nothing they do can change a flag (no implicit \Seen, no \Recent taken).
   * imapflow reopens a mailbox selected in the other mode.
   */
  write?: boolean
}

export function createSession (client: ImapFlow, timeoutMs: number): ImapSession {
  const cmd = <T>(work: Promise<T>): Promise<T> => withDeadline(work, timeoutMs, () => client.close())

  const lockMailbox = async (path: string, opts: LockOptions = {}): Promise<{ validity: string, release: () => void }> => {
    const before = client.mailbox
    const lock = await cmd(client.getMailboxLock(path, { readOnly: opts.write !== true, acquireTimeout: timeoutMs }))
    if (opts.sync !== false && before !== false && before === client.mailbox) {
      // Still selected from an earlier lease: no SELECT was sent, and the server only
      // reports mail that arrived since at a sync point. NOOP is one.
      try {
        await cmd(client.noop())
      } catch (err) {
        lock.release()
        throw err
      }
    }
    const mailbox = client.mailbox
    if (mailbox === false) {
      lock.release()
      // a connection that died under the lock reads as "nothing selected": that is a drop
      if (!client.usable) throw Object.assign(new Error('connection closed'), { code: 'NoConnection' })
      throw new GatewayError('not-found', 'no such mailbox')
    }
    const validity = mailbox.uidValidity as bigint | undefined // imapflow: a BigInt, or nothing if the server sent none
    // ids hold UIDVALIDITY as 32 bits (RFC 3501 §2.3.1.1: a non-zero 32-bit number)
    if (validity === undefined || validity < 1n || validity > 0xffffffffn) {
      lock.release()
      throw new UpstreamRefusal('the IMAP server selected the mailbox without a valid UIDVALIDITY')
    }
    if (opts.write === true && mailbox.readOnly === true) {
      lock.release()
      // SELECT answered [READ-ONLY] (RFC 3501 §6.3.1): no write can succeed here
      throw new GatewayError('unsupported', 'the IMAP server opens this mailbox read-only')
    }
    return { validity: validity.toString(), release: () => lock.release() }
  }

  return {
    client,
    cmd,
    lockMailbox,
    sync: async () => { await cmd(client.noop()) },
    async inMailbox (path, fn, opts) {
      const lock = await lockMailbox(path, opts)
      try {
        return await fn(lock.validity)
      } finally {
        lock.release()
      }
    },
  }
}
