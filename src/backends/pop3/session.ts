/**
 * One logged-in POP3 session for one maildrop, shared by the requests that
 * arrive while it is open (the client queues their commands on the one
 * connection). It counts its leases so the manager knows when it is idle, and
 * learns the message list (UIDL + LIST) once: RFC 1939 freezes it at login.
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
  private snap: Promise<Snapshot> | null = null
  private closing: Promise<void> | null = null
  private idleWaiters: Array<() => void> = []

  constructor (client: Pop3Client, settingsHash: string) {
    this.client = client
    this.settingsHash = settingsHash
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

  /** RSET if needed, then QUIT (see Pop3Client.quit). */
  close (): Promise<void> {
    this.closing ??= this.client.quit()
    return this.closing
  }
}

function noUidl (): GatewayError {
  return new GatewayError('unsupported', 'This POP3 server has no UIDL, so its messages have no stable ids')
}
