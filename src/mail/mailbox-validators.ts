/**
 * Mailbox-wide validators for cached messages. A validator is the backend's
 * cheap summary of a mailbox's mutable state (IMAP: UIDVALIDITY,
 * HIGHESTMODSEQ, MESSAGES, UIDNEXT from one STATUS). While it is unchanged,
 * no message in the mailbox changed keywords or was expunged, so every cached
 * message checked under it is still true — one STATUS per mailbox per
 * staleness window replaces a FETCH FLAGS per message.
 *
 * Validators are memoised in process for at most the staleness bound and
 * only under the account's write epoch they were taken in (freshness.ts), and
 * concurrent asks for one mailbox share one upstream call.
 */
import type { AccountContext, MailBackend } from './backend.ts'

interface Memo {
  value: Promise<string | null>
  at: number
}

const MAX_MEMOS = 50_000

export class MailboxValidators {
  readonly #memo = new Map<string, Memo>()

  constructor (private readonly stalenessMs: number) {}

  /** The mailbox's current validator (at most `stalenessMs` old), or null when the backend has none. */
  async get (backend: MailBackend, ctx: AccountContext, mailbox: string, epoch: string | null = null): Promise<string | null> {
    if (backend.mailboxValidator === undefined) return null
    const key = `${ctx.accountId}\0${epoch ?? ''}\0${mailbox}`
    const now = Date.now()
    const memo = this.#memo.get(key)
    if (memo !== undefined && now - memo.at <= this.stalenessMs) return memo.value
    const value = backend.mailboxValidator(ctx, mailbox).catch(() => null)
    if (this.#memo.size >= MAX_MEMOS) this.#memo.clear()
    this.#memo.set(key, { value, at: now })
    return value
  }
}
