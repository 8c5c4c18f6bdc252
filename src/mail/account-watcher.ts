/**
 * One watched account: the lease that makes this instance its watcher, the
 * watch connection (reconnected with backoff), or polling where the backend
 * has none (POP3), and the tracker that turns hints into events.
 *
 * - Only the lease holder connects; the others try for the lease every third
 *   of its time to live and take over when its holder stops renewing.
 * - Every (re)connect reconciles every watched mailbox from its last state,
 *   so changes made while the connection was down are emitted, once.
 * - A rejected login is never tried again: `account.error` with
 *   `auth-failed`, and the watcher stops. Any other failure: `account.error`
 *   once per outage, then reconnects with doubling delays.
 */
import type { MailBackend, MailboxRecord } from './backend.ts'
import { isGatewayError } from './errors.ts'
import { eventId, type EventBus } from './events.ts'
import type { Freshness } from './freshness.ts'
import type { Lease, Leases } from './lease-port.ts'
import { MailboxTracker } from './mailbox-tracker.ts'
import type { WatchStateStore } from './watch-states.ts'
import type { Caller } from './service-types.ts'
import type { ChangeSource, WatchListener, WatchSession } from './watch-source.ts'

export interface WatchLog {
  debug: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
}

export interface AccountWatcherDeps {
  backend: MailBackend
  source: ChangeSource
  bus: EventBus
  freshness: Freshness
  /** The last states every watcher of an account resumes from (watch-states.ts). */
  states?: WatchStateStore
  leases: Leases
  /** IMAP: mailboxes other than INBOX are polled this often (ms). */
  pollMs: number
  /** POP3: the maildrop is polled this often (ms; never faster than the server's LOGIN-DELAY). */
  pop3PollMs: number
  leaseTtlMs: number
  /** First reconnect delay (ms); doubles up to maxBackoffMs. */
  backoffMs: number
  maxBackoffMs: number
  log?: WatchLog
}

/** How a watch connection (or a polling spell) ended. */
interface Outcome {
  /** It was up: a drop, not a failure to connect. */
  connected: boolean
  err: unknown
}

const INBOX: MailboxRecord = { path: 'INBOX', name: 'INBOX', parentPath: null, role: 'inbox', totalEmails: 0, unreadEmails: null, isSubscribed: true }

/** A delay that `stop` cuts short. */
function pause (ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done (): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

export class AccountWatcher {
  #caller: Caller
  readonly #deps: AccountWatcherDeps
  readonly #tracker: MailboxTracker
  readonly #stop = new AbortController()
  #session: WatchSession | null = null
  #lease: Lease | null = null
  /** Set when the watcher gave up for good (a rejected login). */
  #failed = false
  #outageSince: number | null = null
  #loop: Promise<void> | null = null

  constructor (caller: Caller, deps: AccountWatcherDeps) {
    this.#caller = caller
    this.#deps = deps
    this.#tracker = new MailboxTracker({
      caller: () => this.#caller,
      source: deps.source,
      bus: deps.bus,
      freshness: deps.freshness,
      ...(deps.states === undefined ? {} : { states: deps.states }),
      onError: (err, path) => { this.#reconcileFailed(err, path) },
    })
  }

  get accountId (): string { return this.#caller.account.id }
  get failed (): boolean { return this.#failed }
  get tracker (): MailboxTracker { return this.#tracker }

  /** Newer credentials of the same account (a later subscriber's token). */
  useCaller (caller: Caller): void {
    if (!this.#failed) this.#caller = caller
  }

  start (): void {
    this.#loop ??= this.#run().catch((err: unknown) => { this.#deps.log?.warn({ err }, 'watcher stopped on an unexpected error') })
  }

  async stop (): Promise<void> {
    this.#stop.abort()
    this.#tracker.stop()
    await this.#session?.close()
    await this.#loop
    await this.#lease?.release()
    this.#lease = null
  }

  get #stopped (): boolean { return this.#stop.signal.aborted || this.#failed }

  async #run (): Promise<void> {
    let delay = this.#deps.backoffMs
    while (!this.#stopped) {
      if (!(await this.#holdLease())) {
        await pause(this.#deps.leaseTtlMs / 3, this.#stop.signal)
        continue
      }
      const outcome = this.#deps.backend.watch === undefined ? await this.#poll() : await this.#connectOnce()
      if (this.#stopped) return
      if (outcome.connected) {
        // a connection that was up and dropped: reconnect after the first delay, quietly
        delay = this.#deps.backoffMs
        if (outcome.err !== null) this.#deps.log?.debug({ code: isGatewayError(outcome.err) ? outcome.err.code : undefined }, 'watch connection dropped: reconnecting')
        await pause(delay, this.#stop.signal)
        continue
      }
      await this.#publishError(outcome.err)
      if (this.#failed) return
      await pause(delay, this.#stop.signal)
      delay = Math.min(delay * 2, this.#deps.maxBackoffMs)
    }
  }

  /** True while this instance holds the account's lease (renewed by the caller's loops). */
  async #holdLease (): Promise<boolean> {
    if (this.#lease !== null) return true
    this.#lease = await this.#deps.leases.tryAcquire(`watch:${this.accountId}`, this.#deps.leaseTtlMs)
    return this.#lease !== null
  }

  /** Renews the lease every third of its life while `session` is open; closes it when the lease is lost. */
  #renewWhile (until: Promise<unknown>, onLost: () => void): void {
    const session = { open: true }
    until.finally(() => { session.open = false }).catch(() => {})
    const tick = async (): Promise<void> => {
      while (session.open && !this.#stopped) {
        await pause(this.#deps.leaseTtlMs / 3, this.#stop.signal)
        if (!session.open || this.#stopped || this.#lease === null) return
        if (!(await this.#lease.renew().catch(() => false))) {
          this.#deps.log?.warn({}, 'watcher lease lost: another instance watches the account')
          this.#lease = null
          onLost()
          return
        }
      }
    }
    tick().catch(() => {})
  }

  /** One watch connection, until it ends; `err` null when it ended cleanly (closed, or the lease was lost). */
  async #connectOnce (): Promise<Outcome> {
    const listener: WatchListener = {
      connected: () => {
        this.#outageSince = null
        this.#tracker.markAll()
      },
      listed: (mailboxes) => {
        this.#tracker.listed(mailboxes).catch((err: unknown) => { this.#reconcileFailed(err, null) })
      },
      changed: (path) => { this.#tracker.mark(path) },
    }
    let session: WatchSession
    try {
      session = await this.#deps.backend.watch!(this.#caller.ctx, listener, { pollMs: this.#deps.pollMs })
    } catch (err) {
      return { connected: false, err }
    }
    this.#session = session
    if (this.#stopped) await session.close()
    this.#renewWhile(session.ended, () => { session.close().catch(() => {}) })
    const err = await session.ended
    this.#session = null
    return { connected: true, err }
  }

  /** Polling without a watch connection (POP3), until stopped or the lease is lost. */
  async #poll (): Promise<Outcome> {
    const loginDelay = this.#caller.account.capabilities.loginDelay
    const loginDelayMs = typeof loginDelay === 'number' ? loginDelay * 1000 : 0
    const every = Math.max(this.#deps.pop3PollMs, loginDelayMs)
    const lost = new AbortController()
    const stopped = new Promise<void>((resolve) => {
      this.#stop.signal.addEventListener('abort', () => resolve(), { once: true })
      lost.signal.addEventListener('abort', () => resolve(), { once: true })
    })
    this.#renewWhile(stopped, () => lost.abort())
    const both = AbortSignal.any([this.#stop.signal, lost.signal])
    await this.#tracker.listed([{ record: INBOX, signature: null }])
    while (!both.aborted && !this.#failed) {
      await pause(every, both)
      this.#tracker.mark('INBOX')
    }
    return { connected: true, err: null }
  }

  #reconcileFailed (err: unknown, path: string | null): void {
    this.#deps.log?.debug({ code: isGatewayError(err) ? err.code : undefined, mailbox: path === null ? undefined : 'set' }, 'watcher could not read changes')
    if (isGatewayError(err) && err.code === 'auth-failed') {
      this.#publishError(err).catch(() => {})
      this.#session?.close().catch(() => {})
    }
  }

  /** `account.error`: once per outage; a rejected login ends the watcher for good. */
  async #publishError (err: unknown): Promise<void> {
    const code = isGatewayError(err) ? err.code : 'upstream-unavailable'
    const fatal = code === 'auth-failed'
    if (fatal) {
      if (this.#failed) return
      this.#failed = true
      this.#tracker.stop()
    } else if (this.#outageSince !== null) {
      return
    }
    const since = this.#outageSince ?? Date.now()
    this.#outageSince = since
    this.#deps.log?.warn({ code }, fatal ? 'watcher login rejected: not watching the account any more' : 'watcher cannot reach the mail server: retrying')
    const accountId = this.accountId
    await this.#deps.bus.publish({
      id: eventId({ accountId, mailboxId: null, type: 'account.error', before: null, after: null, discriminator: `${code}:${since}` }),
      type: 'account.error',
      accountId,
      mailboxId: null,
      state: null,
      at: new Date().toISOString(),
      code,
    }).catch(() => {})
  }
}
