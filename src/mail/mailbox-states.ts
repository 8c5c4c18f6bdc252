/**
 * `Mailbox.state` from what the backend reports (state-token.ts encodes it):
 * IMAP's STATUS tuple needs nothing stored; a POP3 UIDL list is kept as a
 * snapshot in the account's cache under its digest, for `SNAPSHOT_TTL_SECONDS`
 * after it was last presented, so `changes` can diff against it later. A
 * snapshot that expired or was evicted makes its state answer 410.
 *
 * The digest depends only on the set of UIDLs: the same maildrop gives the
 * same state on every instance, and a state changes exactly when a message
 * arrives or leaves.
 */
import { createHash } from 'node:crypto'
import type { NativeMailboxState } from './backend.ts'
import type { CachePort } from './cache-port.ts'
import { StateCodec } from './state-token.ts'

/** How long a POP3 snapshot stays after it was last handed out in a state (24 h). */
export const SNAPSHOT_TTL_SECONDS = 24 * 3600
const SNAPSHOT_KIND = 'uidls'

export interface Snapshot {
  digest: string
  /** Sorted, without duplicates. */
  uidls: string[]
}

export function snapshotOf (uidls: Iterable<string>): Snapshot {
  const sorted = [...new Set(uidls)].sort()
  const digest = createHash('sha256').update(sorted.join('\n')).digest('base64url').slice(0, 22)
  return { digest, uidls: sorted }
}

export class MailboxStates {
  readonly codec: StateCodec

  constructor (private readonly cache: CachePort, secret: Buffer) {
    this.codec = new StateCodec(secret)
  }

  /** The public state for a backend's report (null: the mailbox has none); keeps a POP3 snapshot. */
  async token (accountId: string, mailbox: string, native: NativeMailboxState | null): Promise<string | null> {
    if (native === null) return null
    const scope = { accountId, mailbox }
    if (native.kind === 'modseq') return this.codec.modseq(scope, native.state)
    const snap = snapshotOf(native.uidls)
    await this.keep(accountId, snap)
    return this.codec.uidl(scope, snap.digest)
  }

  async keep (accountId: string, snap: Snapshot): Promise<void> {
    await this.cache.forAccount(accountId).setJson(SNAPSHOT_KIND, [snap.digest], snap.uidls, SNAPSHOT_TTL_SECONDS)
  }

  /** A kept snapshot's UIDLs, or null when it is no longer cached. */
  async snapshot (accountId: string, digest: string): Promise<string[] | null> {
    return await this.cache.forAccount(accountId).getJson<string[]>(SNAPSHOT_KIND, [digest])
  }
}
