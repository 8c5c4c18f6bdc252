/**
 * `changes` (contract §8, RFC 8620 §5.2 semantics): what happened in a mailbox
 * since a state, as public ids in at most one of created / updated /
 * destroyed, paged by `newState` while `hasMoreChanges`.
 *
 * - IMAP with CONDSTORE: the backend asks the server (CHANGEDSINCE, and
 *   QRESYNC's VANISHED for what was expunged); nothing is stored.
 * - POP3: the UIDL snapshot the old state names, against the maildrop now
 *   (or, while paging, against the snapshot the sequence leads to). POP3
 *   messages never change, so nothing is ever `updated`.
 *
 * What cannot be computed is `cannot-calculate-changes` (410): UIDVALIDITY
 * changed, no CONDSTORE, expunges without QRESYNC, a snapshot no longer
 * cached. A state that is not this mailbox's own is a 400.
 */
import type { ChangedMessage, MailBackend, MessageKey } from './backend.ts'
import { type ChangesInput, MAX_CHANGES_LIMIT, type MailboxChanges } from './changes-types.ts'
import { GatewayError } from './errors.ts'
import { encodeMessageId } from './ids.ts'
import { type MailboxStates, snapshotOf } from './mailbox-states.ts'
import type { Mailboxes } from './mailboxes.ts'
import type { Caller } from './service-types.ts'
import type { StateScope } from './state-token.ts'

const gone = (why: string): GatewayError => new GatewayError('cannot-calculate-changes', `${why}: list the mailbox again`)

export function changesLimit (limit: number | undefined): number {
  if (limit === undefined) return MAX_CHANGES_LIMIT
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_CHANGES_LIMIT) throw new GatewayError('bad-request', `limit must be an integer from 1 to ${MAX_CHANGES_LIMIT}`)
  return limit
}

export class Changes {
  constructor (
    private readonly backendOf: (caller: Caller) => MailBackend,
    private readonly mailboxes: Mailboxes,
    private readonly states: MailboxStates
  ) {}

  /** The mailbox's state now, straight from the server (one STATUS, or a UIDL round); null where it has none. */
  async current (caller: Caller, mailboxId: string): Promise<string | null> {
    const path = this.mailboxes.path(caller, mailboxId)
    const backend = this.backendOf(caller)
    const native = backend.mailboxState === undefined ? null : await backend.mailboxState(caller.ctx, path)
    return await this.states.token(caller.account.id, path, native)
  }

  async since (caller: Caller, mailboxId: string, input: ChangesInput): Promise<MailboxChanges> {
    const path = this.mailboxes.path(caller, mailboxId)
    const scope: StateScope = { accountId: caller.account.id, mailbox: path }
    const decoded = this.states.codec.decode(scope, input.since)
    const limit = changesLimit(input.limit)
    const backend = this.backendOf(caller)
    const id = (key: MessageKey): string => encodeMessageId(caller.account.id, key)

    if (decoded.kind === 'modseq') {
      if (backend.changesSince === undefined) throw gone('this account cannot compute changes')
      const page = await backend.changesSince(caller.ctx, path, {
        since: decoded.from, after: decoded.page?.after ?? 0, limit, ...(decoded.page === undefined ? {} : { to: decoded.page.to }),
      })
      const keywords: Record<string, string[]> = {}
      const ids = (list: ChangedMessage[]): string[] => list.map(m => {
        const messageId = id(m.key)
        if (m.keywords !== null) keywords[messageId] = m.keywords
        return messageId
      })
      const created = ids(page.created)
      const updated = ids(page.updated)
      return {
        oldState: input.since,
        newState: page.next === null ? this.states.codec.modseq(scope, page.to) : this.states.codec.modseq(scope, decoded.from, { to: page.to, after: page.next }),
        hasMoreChanges: page.next !== null,
        created,
        updated,
        destroyed: page.destroyed.map(id),
        ...(Object.keys(keywords).length === 0 ? {} : { keywords }),
      }
    }

    const before = await this.states.snapshot(caller.account.id, decoded.from)
    if (before === null) throw gone('the message list this state names is no longer kept')
    let to: string
    let after: string[]
    if (decoded.page !== undefined) {
      to = decoded.page.to
      const kept = await this.states.snapshot(caller.account.id, to)
      if (kept === null) throw gone('the message list this state leads to is no longer kept')
      after = kept
    } else {
      const native = backend.mailboxState === undefined ? null : await backend.mailboxState(caller.ctx, path)
      if (native?.kind !== 'uidl') throw gone('this account cannot compute changes')
      const snap = snapshotOf(native.uidls)
      await this.states.keep(caller.account.id, snap)
      to = snap.digest
      after = snap.uidls
    }
    // every difference, in one fixed order, so a position in it means the same on every page
    const was = new Set(before)
    const is = new Set(after)
    const diff = [
      ...before.filter(u => !is.has(u)).map(u => ({ uidl: u, created: false })),
      ...after.filter(u => !was.has(u)).map(u => ({ uidl: u, created: true })),
    ].sort((a, b) => a.uidl < b.uidl ? -1 : a.uidl > b.uidl ? 1 : 0)
    const start = decoded.page?.after ?? 0
    const page = diff.slice(start, start + limit)
    const more = start + page.length < diff.length
    const key = (uidl: string): MessageKey => ({ mailbox: path, validity: null, key: uidl })
    return {
      oldState: input.since,
      newState: more ? this.states.codec.uidl(scope, decoded.from, { to, after: start + page.length }) : this.states.codec.uidl(scope, to),
      hasMoreChanges: more,
      created: page.filter(c => c.created).map(c => id(key(c.uidl))),
      updated: [],
      destroyed: page.filter(c => !c.created).map(c => id(key(c.uidl))),
    }
  }
}
