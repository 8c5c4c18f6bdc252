/**
 * One logged-in POP3 session for one maildrop, shared by the requests that
 * arrive while it is open (the client queues their commands on the one
 * connection) — or held by one request alone (`exclusive`) for a delete. It
 * counts its leases so the manager knows when it is idle, learns the message
 * list (UIDL + LIST) once (RFC 1939 freezes it at login), and decides how the
 * session ends: `close({ commit })`, the one place that may let a QUIT delete.
 */
import { GatewayError } from '../../mail/errors.ts'
import { Pop3CommandError, type Pop3Client } from './client/index.ts'
import { makeSnapshot, type Snapshot } from './snapshot.ts'

export class MaildropSession {
  readonly client: Pop3Client
  /** HMAC of the settings that opened it: only the same settings may use it. */
  readonly settingsHash: string
  readonly openedAt = Date.now()
  leases = 0
  /** Close as soon as the last lease ends (revoked, or replaced). */
  retiring = false
  /** Held by one request alone, never lent to another (a delete: its QUIT commits every mark). */
  readonly exclusive: boolean
  private snap: Promise<Snapshot> | null = null
  private closing: Promise<void> | null = null
  private committing = false
  private idleWaiters: Array<() => void> = []

  constructor (client: Pop3Client, settingsHash: string, exclusive = false) {
    this.client = client
    this.settingsHash = settingsHash
    this.exclusive = exclusive
  }

  get closed (): boolean {
    return this.client.closed
  }

  /** Whether dropping this session for a newer message list is allowed (LOGIN-DELAY would punish it). */
  get refreshable (): boolean {
    const delay = this.client.capabilities.loginDelay
    return delay === null || delay === 0
  }

  /** The session's message list; UIDL is required for stable ids. */
  snapshot (): Promise<Snapshot> {
    this.snap ??= this.load()
    const snap = this.snap
    snap.catch(() => { if (this.snap === snap) this.snap = null })
    return snap
  }

  private async load (): Promise<Snapshot> {
    const caps = this.client.capabilities
    if (caps.known && !caps.uidl) throw noUidl()
    try {
      const [entries, sizes] = await Promise.all([this.client.uidl(), this.client.list()])
      return makeSnapshot(entries, sizes)
    } catch (err) {
      if (err instanceof Pop3CommandError) throw noUidl()
      throw err
    }
  }

  lease (): void {
    this.leases++
  }

  /** Returns true when this was the last lease. */
  unlease (): boolean {
    this.leases = Math.max(0, this.leases - 1)
    if (this.leases > 0) return false
    for (const w of this.idleWaiters.splice(0)) w()
    return true
  }

  /** Resolves when no lease is held (or after `ms`: false). */
  async idle (ms: number): Promise<boolean> {
    if (this.leases === 0) return true
    return await new Promise(resolve => {
      const done = (): void => { clearTimeout(timer); resolve(true) }
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter(w => w !== done)
        resolve(false)
      }, ms)
      this.idleWaiters.push(done)
    })
  }

  /**
   * Ends the session. By default nothing is deleted: RSET first when anything
   * was marked (and no QUIT at all if that fails), and when the server
   * announced EXPIRE 0 (retrieved messages may be removed at QUIT) after a
   * RETR, no QUIT either: per RFC 1939 §6 a session ended without QUIT never
   * enters the UPDATE state. Such a close never rejects.
   *
   * `commit`: QUIT, so the server removes what was marked; resolves only on
   * its +OK, rejects otherwise (then nothing, or not everything, was removed).
   * Only an exclusive session may commit: a shared one carries other requests.
   */
  close (opts: { commit?: boolean } = {}): Promise<void> {
    const commit = opts.commit === true
    if (commit && !this.exclusive) return Promise.reject(new GatewayError('internal', 'only an exclusive POP3 session may commit deletions'))
    if (this.closing === null) {
      this.closing = commit ? this.client.quit() : this.endWithoutDeleting()
      this.committing = commit
    } else if (commit && !this.committing) {
      // already ending without deleting: a commit cannot be claimed
      return Promise.reject(new GatewayError('upstream-unavailable', 'The POP3 session ended before its deletions were committed'))
    }
    return this.closing
  }

  private async endWithoutDeleting (): Promise<void> {
    const client = this.client
    if (client.closed) return
    try {
      if (client.marked > 0) await client.rset()
      if (client.capabilities.expire === 0 && client.retrieved > 0) return client.end()
      await client.quit()
    } catch {
      // A failed goodbye changes nothing for the caller, and a failed RSET must not be followed by QUIT.
      client.end()
    }
  }
}

function noUidl (): GatewayError {
  return new GatewayError('unsupported', 'This POP3 server has no UIDL, so its messages have no stable ids')
}
