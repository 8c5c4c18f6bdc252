/**
 * Contracts of the generic keyed pool. The pool knows nothing about mail
 * protocols: callers hand it create/destroy/validate callbacks and address
 * resources by an opaque key (who may share a resource) inside a group (what a
 * cap applies to, e.g. one mail account).
 */

export interface PoolOptions<S, R> {
  /** Open a resource for `spec`. A rejection is reported to the waiter that asked for it. */
  create: (spec: S, key: string) => Promise<R>
  /** Close a resource. Must settle in bounded time; errors are ignored. */
  destroy: (resource: R) => Promise<void>
  /**
   * Checked before an idle resource is lent out again; false (or a throw) means
   * the resource is destroyed and the waiter served by another one.
   */
  validate?: (resource: R, idleForMs: number) => Promise<boolean> | boolean
  /**
   * How long a failure to create a resource for a key is remembered (ms).
   * Within that window every acquire for the key rejects with the same error,
   * without calling `create` (e.g. a rejected password). 0 = not remembered.
   */
  failureTtlMs?: (error: unknown) => number
  /** Resources per group (live, being created and being destroyed). */
  maxPerGroup: number
  /** Resources in the whole pool. */
  maxTotal: number
  /** An idle resource is destroyed after this long (ms). */
  idleMs: number
  /** How long acquire() waits for a resource before rejecting with PoolTimeoutError (ms). */
  acquireTimeoutMs: number
  /**
   * Slots per group shared with other processes (several gateway instances): one
   * is taken before each create or adopt and given back once the resource is
   * destroyed. Lending an idle resource asks nothing of it. Absent: the
   * per-process caps above are the only ones.
   */
  gate?: GroupGate
  /** While the gate has no slot for a group, ask it again after this long (ms; default 500), or at wake(). */
  gateRetryMs?: number
}

/** Deployment-wide slots per group (see PoolOptions.gate). */
export interface GroupGate {
  /** A slot for one more resource of the group (resolves with its give-back), or null while every slot is taken. */
  take: (group: string) => Promise<(() => void) | null>
  /**
   * Called once by the pool: `freed` when a slot of a group may have become
   * free (ask again now), `wanted` when another process waits for one (give
   * one back when possible).
   */
  listen?: (events: { freed: (group: string) => void, wanted: (group: string) => void }) => void
}

export interface AcquireOptions<S = unknown, R = unknown> {
  /** Never lend a resource that was idle: open a new one (used to retry after a dropped connection). */
  fresh?: boolean
  /**
   * Opens the resource for this acquire instead of PoolOptions.create: a
   * connection held for another purpose (a watcher's) that counts against the
   * same caps. Implies `fresh`.
   */
  create?: (spec: S, key: string) => Promise<R>
  /** Overrides PoolOptions.acquireTimeoutMs. */
  timeoutMs?: number
}

/** Exclusive use of one resource. Exactly one of release()/destroy() takes effect. */
export interface Lease<R> {
  readonly resource: R
  readonly key: string
  /** Give the resource back for reuse (destroyed instead when it was discarded meanwhile). */
  release: () => void
  /** The resource is broken or in an unknown state: close it, never reuse it. */
  destroy: () => void
}

export interface PoolStats {
  total: number
  waiting: number
  idle: number
  busy: number
  groups: Record<string, number>
}

export class PoolTimeoutError extends Error {
  readonly code = 'POOL_TIMEOUT'
  constructor () {
    super('timed out waiting for a pooled connection')
    this.name = 'PoolTimeoutError'
  }
}

export class PoolClosedError extends Error {
  readonly code = 'POOL_CLOSED'
  constructor () {
    super('the connection pool is closed')
    this.name = 'PoolClosedError'
  }
}
