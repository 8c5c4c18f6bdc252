/**
 * The last state a watcher reached in each watched mailbox, kept in the
 * shared cache so that whichever watcher runs next — on another instance
 * after a takeover, or on this one after the last subscriber left and a new
 * one came — reconciles from there and announces what changed meanwhile.
 *
 * A state is a fact about the mailbox, not a secret: it is stored sealed like
 * every cache value, per account. Losing it (eviction, a day without a
 * watcher) only means the next watcher starts from what it first sees, as a
 * new account's does; `changes` from a subscriber's own state still has it all.
 */
import type { CachePort } from './cache-port.ts'

const KIND = 'watch-state'
/** As long as the event log keeps events: older news is a resync, not an event. */
const TTL_SECONDS = 24 * 3600

export interface WatchStateStore {
  get: (accountId: string, path: string) => Promise<string | null>
  set: (accountId: string, path: string, state: string) => Promise<void>
}

export class CachedWatchStates implements WatchStateStore {
  constructor (private readonly cache: CachePort) {}

  async get (accountId: string, path: string): Promise<string | null> {
    // a cache that cannot answer is a first sight, never a failed reconcile
    return await this.cache.forAccount(accountId).getJson<string>(KIND, [path]).catch(() => null)
  }

  async set (accountId: string, path: string, state: string): Promise<void> {
    await this.cache.forAccount(accountId).setJson(KIND, [path], state, TTL_SECONDS).catch(() => {})
  }
}
