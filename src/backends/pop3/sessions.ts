/**
 * At most one POP3 session per maildrop. A POP3 login locks the maildrop for
 * every other client (RFC 1939 §4) and freezes its message list, so:
 * - requests for one maildrop (host + user) share one session; concurrent
 *   ones are served on it, their commands queued on its connection;
 * - a session QUITs `idleQuitMs` after its last request (other mail clients
 *   can log in again, and the next request sees new mail), and is recycled
 *   after `maxAgeMs` when idle, so a steady trickle cannot hold the lock forever;
 * - `fresh` requests (first list page, mailbox counts, logins) replace an idle
 *   session with a new login, so mail delivered since appears — unless the
 *   server announced LOGIN-DELAY, where a new login would be refused;
 * - only the exact settings that opened a session may use it (a request with
 *   another password waits for it to end and logs in itself);
 * - a new login waits for the previous session's QUIT (the server's lock);
 * - a login the server rejected for its credentials (`[AUTH]`, RFC 3206, or a
 *   bare -ERR from a server with RESP-CODES) is remembered for `authFailureTtlMs`
 *   (as the IMAP pool does): the same settings get the same answer without
 *   another attempt, so a client retrying a wrong password costs the server one
 *   login. A bare -ERR from a server without response codes is not remembered
 *   (it may be a passing lock), so there each retry is a real login.
 */
import { settingsKey } from '../settings-key.ts'
import { GatewayError } from '../../mail/errors.ts'
import type { ConnectionSettings } from '../../mail/types.ts'
import { ExpiringMap } from '../../util/expiring-map.ts'
import { Pop3LoginRejected, type Pop3Client } from './client/index.ts'
import { MaildropSession } from './session.ts'

export interface SessionsOptions {
  connect: (settings: ConnectionSettings) => Promise<Pop3Client>
  idleQuitMs: number
  maxAgeMs: number
  /** How long a request waits for a session opened with other settings to finish. */
  waitMs: number
  /** How long a rejected login is remembered per settings (ms, default 15 s). */
  authFailureTtlMs?: number
}

export interface Lease {
  session: MaildropSession
  /** True when this request logged in itself (its message list is current). */
  fresh: boolean
  release: () => void
}

interface Slot {
  session: MaildropSession | null
  /** The previous sessions' QUIT, which a new login must wait for. */
  closing: Promise<void>
  closes: number
  /** Serialises acquisitions. */
  turn: Promise<unknown>
  waiting: number
  timer: NodeJS.Timeout | null
}

export class MaildropSessions {
  private readonly slots = new Map<string, Slot>()
  private readonly opts: SessionsOptions
  /** settingsHash → the server's rejection message (keyed hashes: no secret in the key). */
  private readonly rejected = new ExpiringMap<string>(10_000)

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
      slot = { session: null, closing: Promise.resolve(), closes: 0, turn: Promise.resolve(), waiting: 0, timer: null }
      this.slots.set(key, slot)
    }
    return [key, slot]
  }

  async acquire (settings: ConnectionSettings, wantFresh: boolean): Promise<Lease> {
    const [key, slot] = this.slotOf(settings)
    slot.waiting++
    const run = slot.turn.then(() => this.take(key, slot, settings, wantFresh))
    slot.turn = run.catch(() => {})
    try {
      return await run
    } finally {
      slot.waiting--
      this.forget(key, slot)
    }
  }

  /** Drops an empty slot (no session, nobody waiting, no QUIT pending). */
  private forget (key: string, slot: Slot): void {
    if (slot.session === null && slot.waiting === 0 && slot.closes === 0 && slot.timer === null && this.slots.get(key) === slot) {
      this.slots.delete(key)
    }
  }

  private async take (key: string, slot: Slot, settings: ConnectionSettings, wantFresh: boolean): Promise<Lease> {
    const hash = MaildropSessions.settingsHash(settings)
    // checked first: known-bad settings must not even end another caller's session
    const rejection = this.rejected.get(hash)
    if (rejection !== undefined) throw new GatewayError('auth-failed', rejection)
    const current = slot.session
    if (current !== null) {
      const idle = current.leases === 0
      const replace = current.closed || current.settingsHash !== hash ||
        (idle && (Date.now() - current.openedAt > this.opts.maxAgeMs || (wantFresh && current.refreshable)))
      if (!replace) return this.lend(key, slot, current, false)
      if (!current.closed && !idle && !(await current.idle(this.opts.waitMs))) {
        throw new GatewayError('mailbox-locked', 'The POP3 maildrop is busy with another session', { retryAfter: 2 })
      }
      this.retire(key, slot, current)
    }
    await slot.closing
    const session = new MaildropSession(await this.login(settings, hash), hash)
    slot.session = session
    return this.lend(key, slot, session, true)
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
    await Promise.all(all)
  }
}
