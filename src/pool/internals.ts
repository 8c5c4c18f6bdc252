/**
 * Book-keeping pieces of KeyedPool: the records it keeps per resource, per key
 * and per waiter, the per-group counters and the remembered create failures.
 */
import type { Lease } from './types.ts'

export interface Item<R> {
  resource: R
  key: string
  group: string
  state: 'idle' | 'busy' | 'dead'
  idleSince: number
  idleTimer: NodeJS.Timeout | null
  /** Destroy instead of reuse when it comes back. */
  doomed: boolean
  /** Gives the group gate's slot back (after destroy). */
  slot: (() => void) | null
}

export interface KeyState<R> {
  group: string
  /** Most recently used last. */
  idle: Array<Item<R>>
  items: Set<Item<R>>
  creating: number
  /** A resource was created for this key: its credentials work, parallel creates are fine. */
  proven: boolean
}

export interface Waiter<S, R> {
  key: string
  group: string
  spec: S
  fresh: boolean
  /** Opens the resource instead of PoolOptions.create (a connection with other settings, still counted). */
  create: ((spec: S, key: string) => Promise<R>) | undefined
  done: boolean
  /** An idle resource is being closed to make room for this waiter. */
  evicting: boolean
  timer: NodeJS.Timeout
  resolve: (lease: Lease<R>) => void
  reject: (err: unknown) => void
}

/** Live + being-created + being-destroyed resources, per group and in total. */
export class Counters {
  readonly groups = new Map<string, number>()
  total = 0

  of (group: string): number {
    return this.groups.get(group) ?? 0
  }

  add (group: string, delta: number): void {
    const n = this.of(group) + delta
    if (n <= 0) this.groups.delete(group)
    else this.groups.set(group, n)
    this.total += delta
  }
}

/** A lease whose release/destroy take effect once, whichever comes first. */
export function makeLease<R> (item: Item<R>, release: () => void, destroy: () => void): Lease<R> {
  let returned = false
  const once = (fn: () => void) => () => {
    if (returned) return
    returned = true
    fn()
  }
  return { resource: item.resource, key: item.key, release: once(release), destroy: once(destroy) }
}
