/**
 * MailBackend for POP3: every read leases the maildrop's one session (see
 * sessions.ts) and runs a read operation on it (see read.ts). The one write,
 * delete, runs on an exclusive session and commits with QUIT (delete.ts);
 * nothing else ever deletes mail.
 */
import type { AccountContext, ListQuery, LoginOrigin, ListResult, MailBackend, MailboxRecord, MessageKey, MessageRecord, NativeMailboxState, RawSource } from '../../mail/backend.ts'
import { GatewayError } from '../../mail/errors.ts'
import type { Capabilities, ConnectionSettings } from '../../mail/types.ts'
import type { HostGuard } from '../../net/host-guard.ts'
import { defaultParseBudget, type ByteBudget, type Permit } from '../../util/byte-budget.ts'
import { operationTimeoutMs } from '../../util/operation-timeout.ts'
import { withinBudget, type BudgetShort } from '../budget-wait.ts'
import { withDeadline } from '../deadline.ts'
import { LoginBudget } from '../login-budget.ts'
import { observeLogin, type LoginObserver } from '../login-outcome.ts'
import { accountCapabilities } from './capabilities.ts'
import { connectPop3, type Pop3Client, type Pop3Logger } from './client/index.ts'
import { deleteMessages } from './delete.ts'
import type { MailWriters } from '../../mail/writers.ts'
import { assertInbox, assertNoFilter, inboxRecord, listPage, readMessage, retrieve } from './read.ts'
import { MaildropSessions, type Lease, type LoginGate } from './sessions.ts'
import type { Snapshot } from './snapshot.ts'

export interface Pop3BackendOptions {
  guard: HostGuard
  /** Extra CA bundle (MAIL_TLS_CA_FILE). */
  tlsCa?: Buffer | null
  /** Connect, greeting, each command, each pause mid-reply (ms). */
  timeoutMs: number
  /** QUIT this long after a maildrop's last request (default 1000 ms). */
  idleQuitMs?: number
  /** Log in again (when idle) after a session is this old (default 30 s). */
  maxSessionMs?: number
  /** Log in again after a session is this old even when it is busy (default none). */
  maxLifeMs?: number
  /** Cap for buffered list replies (UIDL, LIST, TOP). */
  maxListBytes?: number
  /** How long a rejected login is remembered per credential (ms, default 15 s). */
  authFailureTtlMs?: number
  logger?: Pop3Logger | null
  /** Budgets of login attempts for new sessions (shared with IMAP; default DEFAULT_LOGIN_BUDGET). */
  loginBudget?: LoginBudget
  /** The process-wide parse budget (PARSE_BUDGET_BYTES); default: the process's one of 64 MiB, shared by both backends. */
  parseBudget?: ByteBudget
  /** Told the outcome of every login (metrics). */
  onLogin?: LoginObserver
}

function uidlState (snap: Snapshot): NativeMailboxState {
  return { kind: 'uidl', uidls: [...snap.byUid.keys()] }
}

export class Pop3Backend implements MailBackend {
  readonly protocol = 'pop3' as const
  private readonly sessions: MaildropSessions
  private readonly opts: Pop3BackendOptions
  private readonly budget: ByteBudget
  private readonly loginBudget: LoginBudget
  readonly writers: MailWriters

  constructor (opts: Pop3BackendOptions) {
    this.opts = opts
    this.budget = opts.parseBudget ?? defaultParseBudget()
    this.loginBudget = opts.loginBudget ?? new LoginBudget()
    this.writers = { remover: { remove: (ctx, keys) => deleteMessages(this.sessions, ctx, keys, opts.timeoutMs) } }
    this.sessions = new MaildropSessions({
      connect: (s) => observeLogin(opts.onLogin, this.connect(s)),
      idleQuitMs: opts.idleQuitMs ?? 1000,
      maxAgeMs: opts.maxSessionMs ?? 30_000,
      ...(opts.maxLifeMs === undefined ? {} : { maxLifeMs: opts.maxLifeMs }),
      waitMs: opts.timeoutMs,
      acquireTimeoutMs: operationTimeoutMs(opts.timeoutMs),
      ...(opts.authFailureTtlMs === undefined ? {} : { authFailureTtlMs: opts.authFailureTtlMs }),
    })
  }

  private async connect (s: ConnectionSettings): Promise<Pop3Client> {
    if (s.protocol !== 'pop3') throw new GatewayError('internal', 'POP3 backend called for another protocol')
    return await connectPop3({
      guard: this.opts.guard,
      host: s.host,
      port: s.port,
      security: s.security,
      username: s.username,
      ...(s.accessToken !== undefined ? { accessToken: s.accessToken } : { password: s.password ?? '' }),
      tlsCa: this.opts.tlsCa ?? null,
      timeoutMs: this.opts.timeoutMs,
      ...(this.opts.maxListBytes !== undefined ? { maxListBytes: this.opts.maxListBytes } : {}),
      logger: this.opts.logger ?? null,
    })
  }

  /** Not yet authenticated: under the login budget, outside the maildrop's queue (sessions.ts probe). */
  async login (settings: ConnectionSettings, origin?: LoginOrigin): Promise<Capabilities> {
    const gate: LoginGate = (attempt) => this.loginBudget.run(origin?.client ?? '', settings.host, attempt)
    return await this.sessions.probe(settings, gate, client => accountCapabilities(client.capabilities))
  }

  /** POP3 sessions logged in now (metrics). */
  openSessions (): number {
    return this.sessions.openCount()
  }

  async listMailboxes (ctx: AccountContext): Promise<MailboxRecord[]> {
    return await this.sessions.use(ctx.settings, true, async ({ session }) => {
      const { count } = await session.client.stat()
      // the state from the same login: a second fresh one would cost the server another login
      const state = await session.snapshot().then(uidlState, (err: unknown) => {
        if (err instanceof GatewayError && err.code === 'unsupported') return null // no UIDL: no ids, no state
        throw err
      })
      return [{ ...inboxRecord(count), state }]
    })
  }

  /** The maildrop's UIDLs now (a fresh login where allowed: RFC 1939 freezes a session's list). */
  async mailboxState (ctx: AccountContext, mailbox: string): Promise<NativeMailboxState> {
    assertInbox(mailbox)
    return await this.sessions.use(ctx.settings, true, async ({ session }) => {
      return uidlState(await session.snapshot())
    })
  }

  async listMessages (ctx: AccountContext, mailbox: string, query: ListQuery): Promise<ListResult> {
    assertInbox(mailbox)
    assertNoFilter(query.filter)
    // The first page wants the current message list; later pages keep the session's.
    return await this.sessions.use(ctx.settings, query.after === undefined, ({ session }) => listPage(session, query))
  }

  async getMessages (ctx: AccountContext, keys: MessageKey[]): Promise<Array<MessageRecord | null>> {
    const out: Array<MessageRecord | null> = []
    let lease = await this.sessions.acquire(ctx.settings, false)
    try {
      for (const key of keys) {
        // one message at a time, each under its own share of the parse budget
        const permit = this.budget.permit(ctx.accountId)
        try {
          out.push(await withinBudget(permit, async () => {
            const got = await this.readWithin(lease, key, permit)
            if (got !== null || !this.mayRefresh(lease, key)) return got
            // Maybe newer than this session's list: look again with a new login.
            lease.release()
            lease = await this.sessions.acquire(ctx.settings, true)
            return await this.readWithin(lease, key, permit)
          }, async (wait) => {
            // The wait holds no maildrop (its idle QUIT, other logins may go on), except
            // where the server announced LOGIN-DELAY: a new login would be refused.
            if (!lease.session.refreshable) return await wait()
            lease.release()
            await wait()
            lease = await this.sessions.acquire(ctx.settings, false)
          }))
        } finally {
          permit.release()
        }
      }
      return out
    } finally {
      lease.release()
    }
  }

  /**
   * One message read, under the operation bound IMAP reads have: its RETR is
   * streamed into the parser, where the per-reply deadline does not reach, so a
   * server dripping a byte per timeout would hold the maildrop and the budget.
   */
  private async readWithin (lease: Lease, key: MessageKey, permit: Permit): Promise<MessageRecord | null | BudgetShort> {
    return await withDeadline(readMessage(lease.session, key, permit), operationTimeoutMs(this.opts.timeoutMs), () => lease.session.client.destroy())
  }

  /**
   * Existence of cached messages: UIDL membership in the session's list. No
   * RETR: content at a UIDL never changes, and POP3 has no keywords. While a
   * session is open the maildrop is locked, so its list cannot be stale.
   */
  async revalidate (ctx: AccountContext, keys: MessageKey[]): Promise<Array<{ keywords: null, modseq: null } | null>> {
    const lease = await this.sessions.acquire(ctx.settings, false)
    try {
      const snap = await lease.session.snapshot()
      return keys.map(k => k.mailbox === 'INBOX' && k.validity === null && snap.byUid.has(k.key) ? { keywords: null, modseq: null } : null)
    } finally {
      lease.release()
    }
  }

  async openRaw (ctx: AccountContext, key: MessageKey): Promise<RawSource> {
    let lease = await this.sessions.acquire(ctx.settings, false)
    try {
      const drain = (): boolean => lease.session.leases > 1
      let got = await retrieve(lease.session, key, { drainOnAbort: drain })
      if (got === null && this.mayRefresh(lease, key)) {
        lease.release()
        lease = await this.sessions.acquire(ctx.settings, true)
        got = await retrieve(lease.session, key, { drainOnAbort: drain })
      }
      if (got === null) throw new GatewayError('not-found', 'No such message')
      const held = lease
      got.stream.once('close', () => held.release())
      // No Content-Length: LIST sizes are not exact on every server (some count
      // LF line ends), and a wrong one would break the response; sent chunked.
      return { stream: got.stream, size: null }
    } catch (err) {
      lease.release()
      throw err
    }
  }

  /** A miss worth a second look: the right shape, and a newer login could change the answer. */
  private mayRefresh (lease: Lease, key: MessageKey): boolean {
    return !lease.fresh && key.mailbox === 'INBOX' && key.validity === null && lease.session.refreshable
  }

  async release (settings: ConnectionSettings): Promise<void> {
    await this.sessions.release(settings)
  }

  async close (): Promise<void> {
    await this.sessions.close()
  }
}

export function createPop3Backend (opts: Pop3BackendOptions): Pop3Backend {
  return new Pop3Backend(opts)
}
