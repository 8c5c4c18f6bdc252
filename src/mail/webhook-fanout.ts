/**
 * From the event bus to the webhook queues, on every instance (contract §9).
 *
 * Every instance subscribes to the bus for each account that has a webhook
 * and offers every matching event to that webhook's queue; the store keeps
 * one delivery per (webhook, event id) however many instances offer it.
 * The same pass ends webhooks whose token was revoked or expired, and keeps
 * each such account watched deployment-wide: one instance holds a lease per
 * account and, while it does, a `Watching` handle opened with a webhook's
 * credentials — so an account with a webhook is watched even when no SSE or
 * GraphQL subscriber is connected anywhere.
 *
 * A token is authenticated once and trusted for the rest of its lifetime,
 * so a pass costs no Redis round trip per webhook. A token revoked on this
 * instance (`onRevoked`) is checked again at once and its webhook ended,
 * which every other instance then sees in the store; the delivery worker
 * still checks the token before each drain.
 */
import { GatewayError } from './errors.ts'
import type { BusSubscription, EventBus, MailEvent } from './events.ts'
import type { Lease, Leases } from './lease-port.ts'
import type { WatchHandle, Watching } from './watch-port.ts'
import type { Caller } from './service-types.ts'
import type { Authenticate, EnqueueResult, WebhookRecord, WebhookStore } from './webhooks-types.ts'

export interface FanoutLogger {
  warn: (obj: object, msg: string) => void
}

export interface FanoutOptions {
  store: WebhookStore
  bus: EventBus | null
  watching: Watching | null
  leases: Leases
  authenticate: Authenticate
  /** Calls the listener with each token id revoked on this instance; returns the unsubscribe. */
  onRevoked?: (listener: (tokenId: string) => void) => () => void
  /** How often registrations are re-read (ms); a change on this instance resyncs at once. */
  syncMs: number
  /** Watch lease length (ms); renewed every sync, so keep it ≥ 3 × syncMs. */
  leaseMs: number
  logger: FanoutLogger
  onEnqueue?: (result: EnqueueResult) => void
}

interface AccountState {
  hooks: WebhookRecord[]
  subscription: BusSubscription | null
  lease: Lease | null
  watch: WatchHandle | null
}

export function matches (hook: WebhookRecord, event: MailEvent): boolean {
  return hook.status === 'active' &&
    hook.types.includes(event.type) &&
    (hook.mailboxIds === null || event.mailboxId === null || hook.mailboxIds.includes(event.mailboxId))
}

export class WebhookFanout {
  readonly #accounts = new Map<string, AccountState>()
  #timer: NodeJS.Timeout | null = null
  #running: Promise<void> | null = null
  #again = false
  #closed = false
  /** Token → its authentication, trusted until the token expires (or is revoked here). */
  #callers = new Map<string, Caller>()
  /** Token ids revoked on this instance whose webhooks a pass has still to end. */
  readonly #recheck = new Set<string>()
  #unsubscribe: (() => void) | null = null

  constructor (private readonly opts: FanoutOptions) {}

  start (): void {
    this.#unsubscribe = this.opts.onRevoked?.((tokenId) => { this.#revoked(tokenId) }) ?? null
    this.#timer = setInterval(() => { this.sync() }, this.opts.syncMs)
    this.#timer.unref()
    this.sync()
  }

  /** One pass; a call during a pass schedules one more. Resolves when the passes end; never rejects. */
  sync (): Promise<void> {
    if (this.#running !== null) {
      this.#again = true
      return this.#running
    }
    this.#running = (async () => {
      do {
        this.#again = false
        try {
          await this.#pass()
        } catch (err) {
          this.opts.logger.warn({ err }, 'webhook registrations could not be read; retrying')
        }
      } while (this.#again && !this.#closed)
    })().finally(() => { this.#running = null })
    return this.#running
  }

  async #pass (): Promise<void> {
    const byAccount = new Map<string, WebhookRecord[]>()
    const callers = new Map<string, Caller>()
    for (const record of await this.opts.store.all()) {
      const caller = await this.#tokenLive(record)
      if (caller === false) continue
      if (caller !== null) callers.set(record.token, caller)
      const list = byAccount.get(record.accountId) ?? []
      list.push(record)
      byAccount.set(record.accountId, list)
    }
    // only the tokens of live webhooks stay cached (and rechecked)
    this.#callers = callers
    const live = new Set([...callers.values()].map(caller => caller.tokenId))
    for (const tokenId of this.#recheck) if (!live.has(tokenId)) this.#recheck.delete(tokenId)
    if (this.#closed) return
    for (const [accountId, hooks] of byAccount) {
      let state = this.#accounts.get(accountId)
      if (state === undefined) {
        state = { hooks, subscription: null, lease: null, watch: null }
        this.#accounts.set(accountId, state)
      }
      state.hooks = hooks
      state.subscription ??= this.opts.bus?.subscribe(accountId, (event) => { this.#offer(accountId, event) }) ?? null
      await this.#keepWatched(accountId, state)
    }
    for (const [accountId, state] of this.#accounts) {
      if (!byAccount.has(accountId)) await this.#drop(accountId, state)
    }
  }

  /**
   * The token's authentication (null: not known now, e.g. Redis unreachable, and kept);
   * false (and the webhook ended) once the token was revoked or expired.
   */
  async #tokenLive (record: WebhookRecord): Promise<Caller | null | false> {
    const cached = this.#callers.get(record.token)
    if (cached !== undefined && cached.expiresAt > Date.now() && !this.#recheck.has(cached.tokenId)) return cached
    try {
      const caller = await this.opts.authenticate(record.token)
      this.#recheck.delete(caller.tokenId)
      return caller
    } catch (err) {
      if (!(err instanceof GatewayError && err.code === 'unauthorized')) return null
      if (cached !== undefined) this.#recheck.delete(cached.tokenId)
      await this.opts.store.remove(record.accountId, record.id)
      return false
    }
  }

  /** A token revoked on this instance: checked again, and its webhooks ended, by the next pass. */
  #revoked (tokenId: string): void {
    if (![...this.#callers.values()].some(caller => caller.tokenId === tokenId)) return
    this.#recheck.add(tokenId)
    this.sync()
  }

  #offer (accountId: string, event: MailEvent): void {
    const state = this.#accounts.get(accountId)
    if (state === undefined) return
    for (const hook of state.hooks) {
      if (!matches(hook, event)) continue
      this.opts.store.enqueue(hook, event).then(
        (result) => this.opts.onEnqueue?.(result),
        (err: unknown) => { this.opts.logger.warn({ err, webhook: hook.id }, 'webhook delivery could not be queued') }
      )
    }
  }

  async #keepWatched (accountId: string, state: AccountState): Promise<void> {
    const watching = this.opts.watching
    if (watching === null) return
    if (state.lease !== null) {
      if (await state.lease.renew()) return
      state.watch?.release()
      state.watch = null
      state.lease = null
    }
    const lease = await this.opts.leases.tryAcquire(`webhooks-watch:${accountId}`, this.opts.leaseMs)
    if (lease === null) return
    // the credentials of the webhook that lives longest
    const newest = state.hooks.reduce((a, b) => (b.expiresAt > a.expiresAt ? b : a))
    try {
      state.watch = await watching.acquire(this.#callers.get(newest.token) ?? await this.opts.authenticate(newest.token))
      state.lease = lease
    } catch (err) {
      this.opts.logger.warn({ err, webhook: newest.id }, 'the account of a webhook cannot be watched')
      await lease.release()
    }
  }

  async #drop (accountId: string, state: AccountState): Promise<void> {
    this.#accounts.delete(accountId)
    state.subscription?.close()
    state.watch?.release()
    await state.lease?.release()
  }

  async close (): Promise<void> {
    this.#closed = true
    this.#unsubscribe?.()
    if (this.#timer !== null) clearInterval(this.#timer)
    await this.#running
    for (const [accountId, state] of [...this.#accounts]) await this.#drop(accountId, state)
  }
}
