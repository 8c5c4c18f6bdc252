/**
 * The one place that knows what a change makes untrue, and forgets or
 * replaces it: parsed message entries (shared cache and this process's memo),
 * raw sources, mailbox validators, the cached mailbox list with its counts,
 * and ids under a mailbox that was renamed or deleted. Every write goes
 * through here before it answers; so will changes learnt from the server.
 *
 * Read-your-writes across instances: each account has a write epoch in the
 * shared cache, replaced by every change after the shared entries it touched
 * were rewritten. In-process memos (decoded messages, mailbox validators) are
 * trusted only under the epoch they were made in, and the mailbox list is
 * cached per epoch; so once a write has answered, a read on any instance
 * sharing the cache sees the new epoch and goes to the rewritten entries.
 * One small shared-cache read per request buys that.
 */
import { randomUUID } from 'node:crypto'
import type { AccountContext, MessageKey, MessageRecord, MutableState } from './backend.ts'
import type { CachePort } from './cache-port.ts'
import { MailboxValidators } from './mailbox-validators.ts'
import { MessageStore } from './message-store.ts'
import { forgetRaw } from './raw-cache.ts'

/** What a read needs to know of the account's recent changes. */
export interface FreshnessView {
  /** The write epoch (null: no write seen within the state's lifetime). */
  epoch: string | null
  /** When the mailbox's ids were retired (renamed or deleted), if they were: entries checked before are void. */
  retiredAt: (mailbox: string) => number | undefined
}

interface AccountState {
  epoch: string
  /** Retired mailbox path → ms. */
  retired: Record<string, number>
}

const STATE_KIND = 'fresh'
/** Outlives every memo stamped with an epoch (their TTL is a day). */
const STATE_TTL_SECONDS = 2 * 24 * 3600
/** Retired paths remembered (newest first); older ones fall back to the staleness bound. */
const MAX_RETIRED = 64
const RETIRED_MAX_AGE_MS = 24 * 3600 * 1000

const DEFAULT_MEMO_BYTES = 8 * 1024 * 1024

export interface KeywordChange {
  key: MessageKey
  /** null: unknown (the outcome was in doubt), so the entry is forgotten. */
  state: MutableState | null
}

export class Freshness {
  readonly store: MessageStore
  readonly validators: MailboxValidators

  constructor (private readonly cache: CachePort, stalenessMs: number, memoBytes = DEFAULT_MEMO_BYTES) {
    this.store = new MessageStore(cache, memoBytes)
    this.validators = new MailboxValidators(stalenessMs)
  }

  async #state (ctx: AccountContext): Promise<AccountState | null> {
    return await this.cache.forAccount(ctx.accountId).getJson<AccountState>(STATE_KIND, [])
  }

  async view (ctx: AccountContext): Promise<FreshnessView> {
    const state = await this.#state(ctx)
    const retired = state?.retired ?? {}
    return { epoch: state?.epoch ?? null, retiredAt: (mailbox) => Object.hasOwn(retired, mailbox) ? retired[mailbox] : undefined }
  }

  /** The current epoch alone: a read checks it again before saving what it fetched. */
  async epoch (ctx: AccountContext): Promise<string | null> {
    return (await this.#state(ctx))?.epoch ?? null
  }

  /** Messages whose keywords changed: their entries carry the new keywords and modseq (null: unknown, so forgotten). */
  async keywordsChanged (ctx: AccountContext, changes: KeywordChange[]): Promise<void> {
    const epoch = randomUUID()
    await Promise.all(changes.map(async ({ key, state }) => {
      if (state === null) return await this.store.del(ctx, key)
      const entry = await this.store.get(ctx, key, null, true)
      if (entry === null) return
      const record: MessageRecord = { ...entry.record, keywords: state.keywords, modseq: state.modseq }
      // the mailbox validator moved with the change: this entry is vouched for by its time alone
      await this.store.set(ctx, key, { record, checkedAt: Date.now(), validator: null }, epoch)
    }))
    await this.#bump(ctx, epoch)
  }

  /** Messages that left their mailbox (moved, deleted): their ids now answer 404. */
  async removed (ctx: AccountContext, keys: MessageKey[]): Promise<void> {
    await Promise.all(keys.flatMap(key => [this.store.del(ctx, key), forgetRaw(this.cache, ctx, key)]))
    await this.#bump(ctx)
  }

  /** Messages arrived in mailboxes (copy, move target, append): their counts changed. */
  async added (ctx: AccountContext): Promise<void> {
    await this.#bump(ctx)
  }

  /** The mailbox list changed (create, subscribe); retired paths' message ids now answer 404. */
  async mailboxesChanged (ctx: AccountContext, retired: string[] = []): Promise<void> {
    await this.#bump(ctx, randomUUID(), retired)
  }

  async #bump (ctx: AccountContext, epoch = randomUUID(), retire: string[] = []): Promise<void> {
    const now = Date.now()
    const before = (await this.#state(ctx))?.retired ?? {}
    const kept = Object.entries(before).filter(([path, at]) => now - at < RETIRED_MAX_AGE_MS && !retire.includes(path))
    const retired = Object.fromEntries([...retire.map(p => [p, now] as const), ...kept].slice(0, MAX_RETIRED))
    await this.cache.forAccount(ctx.accountId).setJson(STATE_KIND, [], { epoch, retired } satisfies AccountState, STATE_TTL_SECONDS)
  }
}
