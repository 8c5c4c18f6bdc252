/**
 * What a subscriber face (SSE, GraphQL subscriptions, webhooks) needs from
 * the watchers: keep an account watched while it holds a handle. The first
 * handle starts the account's watcher, the last one's release lets it stop
 * (within 60 s, so a reconnecting subscriber does not restart it).
 */
import type { Caller } from './service-types.ts'

export interface WatchHandle {
  /** Idempotent. */
  release: () => void
}

export interface Watching {
  /**
   * Watch the caller's account (with its credentials) while the handle is held.
   * Rejects with `rate-limited` (429) when the instance's watched-account cap is
   * reached, and `unsupported` for an account that cannot be watched.
   */
  acquire: (caller: Caller) => Promise<WatchHandle>
  /** Stop every watcher (shutdown); handles become inert. */
  close: () => Promise<void>
}
