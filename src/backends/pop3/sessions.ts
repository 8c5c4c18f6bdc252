/**
 * At most one POP3 session per maildrop (host + user): a login locks it for
 * every other client (RFC 1939 §4) and freezes its message list. The rules
 * (README "Sessions and the maildrop lock"), in short:
 * - requests of one maildrop share one session, queued on its connection; it
 *   QUITs `idleQuitMs` after its last request and is recycled after `maxAgeMs`
 *   when idle; `fresh` requests replace an idle session (not under LOGIN-DELAY);
 * - a session logged in longer than `maxLifeMs` is not lent again even while
 *   in use: new requests wait for it to end and log in again, so overlapping
 *   requests cannot keep one login alive past a password change;
 * - only the settings that opened a session may use it; a new login waits for
 *   the previous session's QUIT (the server's lock);
 * - every wait for the maildrop is bounded (`acquireTimeoutMs`, as the IMAP
 *   pool's), and requests queued behind a login that failed get its error;
 * - a login for a new session (`probe`, not yet authenticated) never joins the
 *   queue and never ends a session: it logs in on its own connection inside the
 *   login budget, and its session is kept only if the maildrop is free. Attempts
 *   naming someone's user on another port, or guessing passwords, cannot hold
 *   up or log out the sessions of issued tokens; if the maildrop is in use, the
 *   server's lock answers them (-ERR [IN-USE] → 409);
 * - a delete runs on a session of its own (`exclusive`): a new login lent to
 *   no other request, since its QUIT commits every mark on the connection;
 *   later requests wait for it to end and log in again;
 * - a login rejected for its credentials (`[AUTH]`, RFC 3206, or a bare -ERR
 *   from a server with RESP-CODES) is remembered for `authFailureTtlMs`: the
 *   same settings get the same answer without another attempt. A bare -ERR
 *   without response codes may be a passing lock, so it is not remembered.
 */
import { settingsKey } from '../settings-key.ts'
import { GatewayError } from '../../mail/errors.ts'
import { withDeadline } from '../deadline.ts'
import type { ConnectionSettings } from '../../mail/types.ts'
import { ExpiringMap } from '../../util/expiring-map.ts'
import { Pop3LoginRejected, type Pop3Client } from './client/index.ts'
import { MaildropSession } from './session.ts'
import { emptySlot, type Slot, type Ticket } from './slot.ts'

export interface SessionsOptions {
  connect: (settings: ConnectionSettings) => Promise<Pop3Client>
  idleQuitMs: number
  maxAgeMs: number
  /** Never lend a session logged in longer than this (ms), busy or not. */
  maxLifeMs?: number
  /** How long a request waits for a session opened with other settings to finish. */
  waitMs: number
  /** How long a rejected login is remembered per settings (ms, default 15 s). */
  authFailureTtlMs?: number
  /** How long a request may wait for its lease, queue and login included (ms). */
  acquireTimeoutMs: number
}

/** Runs a login attempt for a new session inside the login budget. */
export type LoginGate = <T>(attempt: () => Promise<T>) => Promise<T>

export interface Lease {
  session: MaildropSession
  /** True when this request logged in itself (its message list is current). */
  fresh: boolean
  release: () => void
}

export class MaildropSessions {
  private readonly slots = new Map<string, Slot>()
  private readonly opts: SessionsOptions
  /** settingsHash → the server's rejection message (keyed hashes: no secret in the key). */
  private readonly rejected = new ExpiringMap<string>(10_000)
  /** Logins for new sessions in flight, per settings hash (the same credentials at once share one). */
  private readonly probes = new Map<string, Promise<Pop3Client>>()
  private closed = false

  constructor (opts: SessionsOptions) {
    this.opts = opts
  }

  /** Same account, security and secret: a session that may serve these settings. */
  static settingsHash (s: ConnectionSettings): string {
    return settingsKey(s).key
  }

  /** One slot per maildrop (host and user, whatever the port): a login locks it. */
  private slotOf (s: ConnectionSettings): [string, Slot] {
    const key = `${s.host.toLowerCase()}\0${s.username}`
    let slot = this.slots.get(key)
    if (slot === undefined) {
      slot = emptySlot()
      this.slots.set(key, slot)
    }
    return [key, slot]
  }

  async acquire (settings: ConnectionSettings, wantFresh: boolean): Promise<Lease> {
    const [key, slot] = this.slotOf(settings)
    slot.waiting++
    const ticket: Ticket = { gone: false, seen: slot.failures }
    const run = slot.turn.then(() => {
      if (ticket.gone) throw new GatewayError('upstream-timeout', 'gave up waiting for the POP3 maildrop')
      return this.take(key, slot, settings, wantFresh, ticket)
    })
    slot.turn = run.catch(() => {})
    try {
      return await withDeadline(run, this.opts.acquireTimeoutMs, () => {
        ticket.gone = true
        // a lease that comes after all goes straight back
        run.then(lease => lease.release(), () => {})
      })
    } finally {
      slot.waiting--
      this.forget(key, slot)
    }
  }

  /**
   * A login for a new session (see the header): outside the queue, inside
   * `gate` (the login budget). Reports `read(client)`; the connection becomes
   * the maildrop's session when nothing else holds or awaits it, else it QUITs.
   */
  async probe<T> (settings: ConnectionSettings, gate: LoginGate, read: (client: Pop3Client) => T): Promise<T> {
    const hash = MaildropSessions.settingsHash(settings)
    const rejection = this.rejected.get(hash)
    if (rejection !== undefined) throw new GatewayError('auth-failed', rejection)
    const [key, slot] = this.slotOf(settings)
    const current = slot.session
    this.forget(key, slot)
    if (current !== null && !current.closed && current.settingsHash === hash) return read(current.client)
    let attempt = this.probes.get(hash)
    const own = attempt === undefined
    if (attempt === undefined) {
      attempt = gate(() => this.login(settings, hash)).finally(() => this.probes.delete(hash))
      this.probes.set(hash, attempt)
    }
    const client = await attempt
    const value = read(client)
    if (own) this.keep(settings, hash, client)
    return value
  }

  /** A probe's logged-in client: the maildrop's session if it is free, else QUIT. */
  private keep (settings: ConnectionSettings, hash: string, client: Pop3Client): void {
    const [key, slot] = this.slotOf(settings)
    if (this.closed || slot.session !== null || slot.waiting > 0 || slot.closes > 0 || client.closed) {
      this.forget(key, slot)
      client.quit().catch(() => {})
      return
    }
    const session = new MaildropSession(client, hash)
    slot.session = session
    this.lend(key, slot, session, true).release()
  }

  /** Drops an empty slot (no session, nobody waiting, no QUIT pending). */
  private forget (key: string, slot: Slot): void {
    if (slot.session === null && slot.waiting === 0 && slot.closes === 0 && slot.timer === null && this.slots.get(key) === slot) {
      this.slots.delete(key)
    }
  }

  private async take (key: string, slot: Slot, settings: ConnectionSettings, wantFresh: boolean, ticket: Ticket): Promise<Lease> {
    const hash = MaildropSessions.settingsHash(settings)
    // checked first: known-bad settings must not even end another caller's session
    const rejection = this.rejected.get(hash)
    if (rejection !== undefined) throw new GatewayError('auth-failed', rejection)
    const failed = slot.failure
    if (slot.session === null && failed !== null && failed.hash === hash && failed.seq > ticket.seen) throw failed.err
    const current = slot.session
    if (current !== null) {
      const idle = current.leases === 0
      const age = Date.now() - current.openedAt
      const replace = current.closed || current.exclusive || current.settingsHash !== hash || age > (this.opts.maxLifeMs ?? Infinity) ||
        (idle && (age > this.opts.maxAgeMs || (wantFresh && current.refreshable)))
      if (!replace) return this.lend(key, slot, current, false)
      if (!current.closed && !idle && !(await current.idle(this.opts.waitMs))) {
        throw new GatewayError('mailbox-locked', 'The POP3 maildrop is busy with another session', { retryAfter: 2 })
      }
      this.retire(key, slot, current)
    }
    await slot.closing
    let client: Pop3Client
    try {
      client = await this.login(settings, hash)
    } catch (err) {
      slot.failure = { hash, err, seq: ++slot.failures }
      throw err
    }
    const session = new MaildropSession(client, hash)
    slot.session = session
    return this.lend(key, slot, session, true)
  }

  /** A new login for one request alone, once the current session (if any) has ended. */
  private async takeExclusive (key: string, slot: Slot, settings: ConnectionSettings): Promise<MaildropSession> {
    const hash = MaildropSessions.settingsHash(settings)
    const rejection = this.rejected.get(hash)
    if (rejection !== undefined) throw new GatewayError('auth-failed', rejection)
    const current = slot.session
    if (current !== null) {
      if (!current.closed && !(await current.idle(this.opts.waitMs))) {
        throw new GatewayError('mailbox-locked', 'The POP3 maildrop is busy with another session', { retryAfter: 2 })
      }
      this.retire(key, slot, current)
    }
    if (slot.timer !== null) clearTimeout(slot.timer)
    slot.timer = null
    await slot.closing
    const session = new MaildropSession(await this.login(settings, hash), hash, true)
    slot.session = session
    session.lease()
    return session
  }

  /**
   * Runs `fn` on an exclusive session and, when it succeeds, commits with
   * `close({ commit: true })`: resolves only once the server answered +OK to
   * QUIT (RFC 1939 §6), else rejects. When `fn` fails, the session ends
   * without deleting anything. Either way the next request logs in afresh.
   */
  async exclusive<T> (settings: ConnectionSettings, fn: (session: MaildropSession) => Promise<T>): Promise<T> {
    const [key, slot] = this.slotOf(settings)
    slot.waiting++
    const ticket: Ticket = { gone: false, seen: slot.failures }
    const run = slot.turn.then(() => {
      if (ticket.gone) throw new GatewayError('upstream-timeout', 'gave up waiting for the POP3 maildrop')
      return this.takeExclusive(key, slot, settings)
    })
    slot.turn = run.catch(() => {})
    let session: MaildropSession
    try {
      session = await withDeadline(run, this.opts.acquireTimeoutMs, () => {
        ticket.gone = true
        // a session that comes after all ends at once, deleting nothing
        run.then(late => { late.unlease(); this.retire(key, slot, late) }, () => {})
      })
    } finally {
      slot.waiting--
      this.forget(key, slot)
    }
    try {
      const result = await fn(session)
      await session.close({ commit: true })
      return result
    } finally {
      session.unlease()
      // detaches it; a close not begun above ends it without deleting
      this.retire(key, slot, session)
    }
  }

  private async login (settings: ConnectionSettings, hash: string): Promise<Pop3Client> {
    try {
      return await this.opts.connect(settings)
    } catch (err) {
      // only a rejection that names the credentials (Pop3LoginRejected.credentials: [AUTH],
      // or a bare -ERR from a server with RESP-CODES); otherwise it may be a passing lock
      if (err instanceof Pop3LoginRejected && err.credentials) this.rejected.set(hash, err.message, this.opts.authFailureTtlMs ?? 15_000)
      throw err
    }
  }

  private lend (key: string, slot: Slot, session: MaildropSession, fresh: boolean): Lease {
    if (slot.timer !== null) clearTimeout(slot.timer)
    slot.timer = null
    session.lease()
    let released = false
    const release = (): void => {
      if (released) return
      released = true
      // A retiring session's QUIT is already waiting for this (see retire).
      if (!session.unlease() || session.retiring) return
      if (session.closed) return this.retire(key, slot, session)
      if (slot.session !== session) return
      slot.timer = setTimeout(() => {
        slot.timer = null
        if (slot.session === session && session.leases === 0) this.retire(key, slot, session)
      }, this.opts.idleQuitMs)
      slot.timer.unref()
    }
    return { session, fresh, release }
  }

  /**
   * Detaches the session and QUITs it once its last lease ends (a lease still
   * held after `waitMs` has its connection dropped). The slot's next login
   * waits for this.
   */
  private retire (key: string, slot: Slot, session: MaildropSession): void {
    if (slot.session === session) slot.session = null
    if (session.retiring) return
    session.retiring = true
    const previous = slot.closing
    slot.closes++
    slot.closing = (async () => {
      await previous
      if (!session.closed && !(await session.idle(this.opts.waitMs))) session.client.destroy()
      await session.close()
    })().catch(() => {}).finally(() => {
      slot.closes--
      this.forget(key, slot)
    })
  }

  /** Runs `fn` with a lease; released whatever happens. */
  async use<T> (settings: ConnectionSettings, wantFresh: boolean, fn: (lease: Lease) => Promise<T>): Promise<T> {
    const lease = await this.acquire(settings, wantFresh)
    try {
      return await fn(lease)
    } finally {
      lease.release()
    }
  }

  /** Sessions logged in now (one per maildrop at most). */
  openCount (): number {
    let n = 0
    for (const slot of this.slots.values()) if (slot.session !== null && !slot.session.closed) n++
    return n
  }

  /** Ends the sessions opened with these settings (token revoked). */
  async release (settings: ConnectionSettings): Promise<void> {
    const hash = MaildropSessions.settingsHash(settings)
    const [key, slot] = this.slotOf(settings)
    const s = slot.session
    if (s !== null && s.settingsHash === hash) {
      if (slot.timer !== null) clearTimeout(slot.timer)
      slot.timer = null
      this.retire(key, slot, s)
    }
    await slot.closing
    this.forget(key, slot)
  }

  async close (): Promise<void> {
    this.closed = true
    const all: Array<Promise<void>> = []
    for (const [key, slot] of this.slots) {
      if (slot.timer !== null) clearTimeout(slot.timer)
      slot.timer = null
      if (slot.session !== null) {
        if (slot.session.leases > 0) slot.session.client.destroy()
        this.retire(key, slot, slot.session)
      }
      all.push(slot.closing)
    }
    this.slots.clear()
    // a login for a new session still in flight QUITs when it ends (keep): not waited for
    await Promise.all(all)
  }
}
