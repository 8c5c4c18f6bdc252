/**
 * Pooled imapflow connections: the generic KeyedPool with IMAP callbacks.
 *
 * - key = account + security + HMAC of the secret (two passwords, or one
 *   password over two security modes, never share a connection);
 *   group = account (the per-account cap).
 * - A rejected login is remembered for `authFailureTtlMs`: a burst with a
 *   wrong password costs the server one login.
 * - An idle connection is checked before reuse (`usable`, plus NOOP after a
 *   quiet spell); one that closes on its own leaves the pool at once.
 * - A connection logged in longer than `maxAgeMs` is closed instead of reused
 *   (checked when it is lent and when it comes back): the next request logs
 *   in again, so a password changed or an account locked on the server cuts
 *   off tokens that use it within that time.
 * - run(): an exclusive lease for one operation. If the connection drops
 *   under a read (nothing has gone back to the caller yet), the operation is
 *   retried once on a NEW connection; a write is never retried. Everything is
 *   bounded by deadlines.
 */
import type { ImapFlow } from 'imapflow'
import type { Logger } from 'pino'
import { isGatewayError } from '../../mail/errors.ts'
import type { ConnectionSettings } from '../../mail/types.ts'
import { KeyedPool } from '../../pool/index.ts'
import { operationTimeoutMs } from '../../util/operation-timeout.ts'
import { settingsKey } from '../settings-key.ts'
import type { AcquireOptions, GroupGate, Lease, PoolStats } from '../../pool/index.ts'
import type { ConnectDeps } from './connect.ts'
import { closeImap, openImap } from './connect.ts'
import { withDeadline } from '../deadline.ts'
import { LoginBudget } from '../login-budget.ts'
import { observeLogin, type LoginObserver } from '../login-outcome.ts'
import { isConnectionDrop, isConnectionFatal, toGatewayError } from './errors.ts'
import { createSession } from './session.ts'
import type { ImapSession } from './session.ts'

export type ConnectFn = (settings: ConnectionSettings, deps: ConnectDeps, onClose: (client: ImapFlow) => void) => Promise<ImapFlow>

export interface ConnectionsOptions extends ConnectDeps {
  maxPerAccount: number
  maxTotal: number
  /** Budgets of login attempts for new sessions (default: DEFAULT_LOGIN_BUDGET). */
  loginBudget?: LoginBudget
  /** Remember a rejected login this long (ms). */
  authFailureTtlMs?: number
  /** NOOP an idle connection before reuse when it sat idle this long (ms). */
  noopAfterMs?: number
  /** Never reuse a connection logged in longer than this (ms, default DEFAULT_MAX_AGE_MS). */
  maxAgeMs?: number
  /** Replaceable connection factory (tests count logins through it). */
  connect?: ConnectFn
  /** Told the outcome of every login (metrics). */
  onLogin?: LoginObserver
  /** maxPerAccount counted across the deployment (Redis slots); absent: per process. */
  gate?: GroupGate
  logger?: Logger
}

/** A pooled connection (and a POP3 session) logs in again after 10 minutes at most (CONNECTION_MAX_AGE_MS). */
export const DEFAULT_MAX_AGE_MS = 600_000

export class ImapConnections {
  readonly #pool: KeyedPool<ConnectionSettings, ImapFlow>
  readonly #opts: ConnectionsOptions
  readonly #connect: ConnectFn
  readonly #budget: LoginBudget
  /** Login attempts in flight per key: concurrent ones with the same credentials share one. */
  readonly #logins = new Map<string, Promise<ImapFlow>>()
  /** Aborted by close(): logins under way are abandoned rather than waited for. */
  readonly #closing = new AbortController()
  readonly #deps: ConnectDeps
  /** When each connection logged in (pooled, or adopted after a session login). */
  readonly #born = new WeakMap<ImapFlow, number>()
  readonly #maxAgeMs: number

  constructor (opts: ConnectionsOptions) {
    this.#opts = opts
    const deps = { ...opts, signal: this.#closing.signal }
    this.#deps = deps
    const open = opts.connect ?? openImap
    // every connection is stamped with its login time, however it joins the pool
    const connect: ConnectFn = async (settings, connectDeps, onClose) => {
      const client = await open(settings, connectDeps, onClose)
      this.#born.set(client, Date.now())
      return client
    }
    this.#connect = connect
    this.#budget = opts.loginBudget ?? new LoginBudget()
    const authTtl = opts.authFailureTtlMs ?? 15_000
    const noopAfter = opts.noopAfterMs ?? 10_000
    this.#maxAgeMs = opts.maxAgeMs ?? DEFAULT_MAX_AGE_MS
    this.#pool = new KeyedPool<ConnectionSettings, ImapFlow>({
      create: (settings) => observeLogin(opts.onLogin, connect(settings, deps, (client) => this.#pool.discard(client))),
      destroy: (client) => closeImap(client, opts.timeoutMs),
      validate: async (client, idleFor) => {
        if (!client.usable || this.#aged(client)) return false
        if (idleFor >= noopAfter) await withDeadline(client.noop(), opts.timeoutMs, () => client.close())
        return client.usable
      },
      failureTtlMs: (err) => isGatewayError(err) && err.code === 'auth-failed' ? authTtl : 0,
      maxPerGroup: opts.maxPerAccount,
      maxTotal: opts.maxTotal,
      idleMs: opts.idleMs,
      // a waiter may be the one whose connection is being opened (connect + greeting + login)
      acquireTimeoutMs: operationTimeoutMs(opts.timeoutMs),
      ...(opts.gate !== undefined ? { gate: opts.gate } : {}),
    })
  }

  /** An exclusive connection; `fresh` never reuses an idle one (a real login). */
  async acquire (settings: ConnectionSettings, fresh = false): Promise<Lease<ImapFlow>> {
    return await this.#acquire(settings, { fresh })
  }

  async #acquire (settings: ConnectionSettings, opts: AcquireOptions<ConnectionSettings, ImapFlow>): Promise<Lease<ImapFlow>> {
    const { key, group } = settingsKey(settings)
    try {
      return await this.#pool.acquire(key, group, settings, opts)
    } catch (err) {
      throw toGatewayError(err)
    }
  }

  /**
   * A login for a new session (not yet authenticated): made under the login
   * budget (per client address, per host), outside the pool's caps, so attempts
   * at a server that never greets cannot take slots of logged-in accounts. The
   * connection then joins the pool when it has room, or is logged out. Same
   * credentials at once share one login; a rejection is remembered as the pool's are.
   */
  async login<T> (settings: ConnectionSettings, client: string, read: (conn: ImapFlow) => T): Promise<T> {
    const { key, group } = settingsKey(settings)
    const failure = this.#pool.failure(key)
    if (failure !== undefined) throw toGatewayError(failure)
    let attempt = this.#logins.get(key)
    const own = attempt === undefined
    if (attempt === undefined) {
      attempt = this.#budget.run(client, settings.host, () => observeLogin(this.#opts.onLogin, this.#connect(settings, this.#deps, (conn) => this.#pool.discard(conn))))
        .catch((err: unknown) => {
          this.#pool.rememberFailure(key, err)
          throw toGatewayError(err)
        })
        .finally(() => this.#logins.delete(key))
      this.#logins.set(key, attempt)
    }
    const conn = await attempt
    const value = read(conn)
    if (own) this.#keep(key, group, conn)
    return value
  }

  /**
   * A connection held outside the request pool's lending (a watcher's), still
   * counted in the account's cap and the total; always a new login, whose
   * rejection is remembered like the pool's. `quietMs`: how long it may sit
   * without traffic (IDLE) before the socket timer probes it. Give it back
   * with `lease.destroy()`.
   */
  async hold (settings: ConnectionSettings, quietMs: number): Promise<Lease<ImapFlow>> {
    const deps = { ...this.#deps, idleMs: quietMs }
    return await this.#acquire(settings, {
      create: (spec) => observeLogin(this.#opts.onLogin, this.#connect(spec, deps, (client) => this.#pool.discard(client))),
    })
  }

  /** A session's login connection joins the pool when the caps (and the deployment's slots) leave room, else is logged out. */
  #keep (key: string, group: string, conn: ImapFlow): void {
    const adopted = conn.usable ? this.#pool.adopt(key, group, conn) : Promise.resolve(false)
    adopted.then((ok) => { if (!ok) closeImap(conn, this.#opts.timeoutMs).catch(() => {}) }, () => {})
  }

  session (lease: Lease<ImapFlow>): ImapSession {
    return createSession(lease.resource, this.#opts.timeoutMs)
  }

  /** Give a lease back after `err` (or success): a connection in doubt is closed. */
  settle (lease: Lease<ImapFlow>, err?: unknown): void {
    if (err !== undefined && (isConnectionFatal(err) || !lease.resource.usable)) lease.destroy()
    else if (!lease.resource.usable || this.#aged(lease.resource)) lease.destroy()
    else lease.release()
  }

  /** Logged in longer than CONNECTION_MAX_AGE_MS: log in again before relying on it. */
  expired (client: ImapFlow): boolean {
    return this.#aged(client)
  }

  #aged (client: ImapFlow): boolean {
    return Date.now() - (this.#born.get(client) ?? 0) >= this.#maxAgeMs
  }

  /**
   * `retry: false` for a write: a drop may come after the server acted, and a
   * second attempt would then act twice or report the message as gone.
   */
  async run<T> (settings: ConnectionSettings, fn: (session: ImapSession) => Promise<T>, opts: { retry?: boolean } = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const lease = await this.acquire(settings, attempt > 0)
      try {
        const result = await withDeadline(fn(this.session(lease)), operationTimeoutMs(this.#opts.timeoutMs), () => lease.resource.close())
        this.settle(lease)
        return result
      } catch (err) {
        this.settle(lease, err)
        if (attempt === 0 && opts.retry !== false && isConnectionDrop(err)) {
          this.#opts.logger?.debug('imap connection dropped under a request; retrying on a new one')
          continue
        }
        throw toGatewayError(err)
      }
    }
  }

  /** Revocation: close the connections opened with these credentials. */
  async drain (settings: ConnectionSettings): Promise<void> {
    await this.#pool.drain(settingsKey(settings).key)
  }

  stats (): PoolStats {
    return this.#pool.stats()
  }

  async close (): Promise<void> {
    this.#closing.abort()
    await this.#pool.close()
  }
}
