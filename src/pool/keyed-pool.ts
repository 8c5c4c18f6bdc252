/**
 * A keyed pool of exclusive resources (see README.md for the rules).
 *
 * - key: who may share a resource (account + credential hash); group: what the
 *   per-group cap counts (the account). Both are opaque and never logged.
 * - Waiters are served FIFO; a waiter nobody can serve does not block waiters of
 *   other keys that can be served.
 * - A key that has no live resource opens one at a time: a burst of requests
 *   with a wrong password costs one login, and its rejection is shared.
 * - Slots count until destroy() has settled, so a replaced connection never
 *   overlaps its successor on the server.
 */
import type { AcquireOptions, Lease, PoolOptions, PoolStats } from './types.ts'
import { PoolClosedError, PoolTimeoutError } from './types.ts'
import type { Item, KeyState, Waiter } from './internals.ts'
import { ExpiringMap } from '../util/expiring-map.ts'
import { Counters, makeLease } from './internals.ts'
import { KeyStates } from './key-states.ts'
import { GateState } from './gate-state.ts'

/** The gate refused a create: the waiter queues again. */
const REFUSED = Symbol('refused')
const noSlot = (): void => {}

export class KeyedPool<S, R> {
  readonly #opts: PoolOptions<S, R>
  readonly #keys = new KeyStates<R>()
  readonly #counts = new Counters()
  readonly #items = new Map<R, Item<R>>()
  /** Create failures remembered per key for a while (negative cache), bounded. */
  readonly #failures = new ExpiringMap<unknown>(10_000)
  readonly #pending = new Set<Promise<unknown>>()
  readonly #gate = new GateState()
  #waiters: Array<Waiter<S, R>> = []
  #closed = false
  #dispatching = false

  constructor (opts: PoolOptions<S, R>) {
    this.#opts = opts
    opts.gate?.listen?.({ freed: (group) => this.wake(group), wanted: (group) => this.yieldSlot(group) })
  }

  acquire (key: string, group: string, spec: S, opts: AcquireOptions<S, R> = {}): Promise<Lease<R>> {
    if (this.#closed) return Promise.reject(new PoolClosedError())
    const failure = this.#failures.get(key)
    if (failure !== undefined) return Promise.reject(failure)
    return new Promise((resolve, reject) => {
      const timeoutMs = opts.timeoutMs ?? this.#opts.acquireTimeoutMs
      const waiter: Waiter<S, R> = {
        key,
        group,
        spec,
        fresh: opts.fresh === true || opts.create !== undefined,
        create: opts.create,
        done: false,
        evicting: false,
        resolve,
        reject,
        timer: setTimeout(() => this.#expire(waiter), timeoutMs),
      }
      this.#waiters.push(waiter)
      this.#dispatch()
    })
  }

  /** A create failure still remembered for the key (see failureTtlMs), if any. */
  failure (key: string): unknown {
    return this.#failures.get(key)
  }

  /** Remembers a failure to open a resource for the key, opened outside the pool (see adopt). */
  rememberFailure (key: string, err: unknown): void {
    this.#failures.set(key, err, this.#opts.failureTtlMs?.(err) ?? 0)
  }

  /**
   * Takes in a resource opened outside the pool (a login attempt made under its
   * own budget), idle and ready for the key, when the caps leave room for it.
   * False when they do not: the caller closes it, and no one else's slot is taken.
   */
  async adopt (key: string, group: string, resource: R): Promise<boolean> {
    if (this.#closed || this.#counts.of(group) >= this.#opts.maxPerGroup || this.#counts.total >= this.#opts.maxTotal) return false
    this.#counts.add(group, 1)
    const slot = await this.#takeSlot(group)
    if (slot === null || this.#closed) {
      slot?.()
      this.#counts.add(group, -1)
      this.#dispatch()
      return false
    }
    const item = this.#admit(this.#keys.of(key, group), key, group, resource)
    item.slot = slot
    this.#idle(item)
    return true
  }

  /** The gate may have a slot for the group again (another process gave one back). */
  wake (group: string): void {
    this.#gate.clear(group)
    this.#dispatch()
  }

  /**
   * Another process waits for a slot of the group: close an idle resource of
   * it now, or else the next one that comes back, so the slot moves on.
   */
  yieldSlot (group: string, forMs = 2000): void {
    const victim = this.#keys.oldestIdle(group)
    if (victim !== undefined) this.#destroy(victim)
    else if (this.#counts.of(group) > 0) this.#gate.want(group, forMs)
  }

  /** The resource died on its own (e.g. the server dropped it): never lend it again. */
  discard (resource: R): void {
    const item = this.#items.get(resource)
    if (item === undefined) return
    if (item.state === 'idle') this.#destroy(item)
    else item.doomed = true
  }

  /** Close every resource of a key: idle ones now, lent ones when they come back. */
  async drain (key: string): Promise<void> {
    const ks = this.#keys.get(key)
    if (ks === undefined) return
    const done: Array<Promise<void>> = []
    for (const item of [...ks.items]) {
      if (item.state === 'idle') done.push(this.#destroy(item))
      else item.doomed = true
    }
    await Promise.all(done)
  }

  /** Reject waiters, close idle resources (and lent ones as they come back). */
  async close (): Promise<void> {
    this.#closed = true
    this.#gate.close()
    for (const w of this.#waiters.splice(0)) this.#settle(w, null, new PoolClosedError())
    for (const item of [...this.#items.values()]) {
      if (item.state === 'idle') this.#destroy(item)
      else item.doomed = true
    }
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending])
  }

  stats (): PoolStats {
    return {
      total: this.#counts.total,
      waiting: this.#waiters.length,
      idle: this.#keys.idleCount(),
      busy: [...this.#items.values()].filter(i => i.state === 'busy').length,
      groups: Object.fromEntries(this.#counts.groups),
    }
  }

  #dispatch (): void {
    if (this.#dispatching) return
    this.#dispatching = true
    try {
      this.#waiters = this.#waiters.filter(w => !w.done && !this.#serve(w))
    } finally {
      this.#dispatching = false
    }
  }

  /** True when the waiter was taken care of (a resource is on its way). */
  #serve (w: Waiter<S, R>): boolean {
    const ks = this.#keys.of(w.key, w.group)
    if (!w.fresh) {
      const item = ks.idle.pop()
      if (item !== undefined) {
        this.#lend(item, w)
        return true
      }
    }
    if (!ks.proven && ks.creating > 0) return false
    if (this.#gate.refused(w.group)) {
      // no slot in the deployment: an idle resource of the group (another key's) holds one
      const victim = this.#keys.oldestIdle(w.group)
      if (victim !== undefined && !w.evicting) {
        w.evicting = true
        this.#destroy(victim).then(() => { w.evicting = false })
      }
      return false
    }
    const groupFull = this.#counts.of(w.group) >= this.#opts.maxPerGroup
    if (!groupFull && this.#counts.total < this.#opts.maxTotal) {
      this.#create(ks, w)
      return true
    }
    if (!w.evicting) {
      const victim = this.#keys.oldestIdle(groupFull ? w.group : null)
      if (victim !== undefined) {
        w.evicting = true
        this.#destroy(victim).then(() => { w.evicting = false })
      }
    }
    return false
  }

  #create (ks: KeyState<R>, w: Waiter<S, R>): void {
    ks.creating++
    this.#counts.add(w.group, 1)
    const p = this.#createWithSlot(w).then(({ resource, slot }) => {
      ks.creating--
      const item = this.#admit(ks, w.key, w.group, resource)
      item.slot = slot
      if (this.#closed) this.#destroy(item)
      else if (!this.#settle(w, item, null)) this.#idle(item)
      // the key is proven now: waiters held back behind its first create may go
      this.#dispatch()
    }, (err: unknown) => {
      ks.creating--
      this.#counts.add(w.group, -1)
      if (err === REFUSED) {
        if (!w.done && !this.#closed) this.#waiters.unshift(w)
        this.#gate.refuse(w.group, this.#opts.gateRetryMs ?? 500, () => this.#dispatch())
        this.#keys.dropIfEmpty(w.key)
        this.#dispatch()
        return
      }
      this.#settle(w, null, err)
      if (ks.items.size === 0) this.#failKey(w.key, err)
      this.#keys.dropIfEmpty(w.key)
      this.#dispatch()
    })
    this.#track(p)
  }

  /** A slot from the gate (a no-op give-back without one), then the resource. */
  async #createWithSlot (w: Waiter<S, R>): Promise<{ resource: R, slot: () => void }> {
    const slot = await this.#takeSlot(w.group)
    if (slot === null) throw REFUSED
    try {
      return { resource: await (w.create ?? this.#opts.create)(w.spec, w.key), slot }
    } catch (err) {
      slot()
      throw err
    }
  }

  /** null: the gate has no slot now. A gate that fails grants (the per-process caps still hold). */
  async #takeSlot (group: string): Promise<(() => void) | null> {
    const gate = this.#opts.gate
    if (gate === undefined) return noSlot
    return await gate.take(group).catch(() => noSlot)
  }

  /** A new resource of the key, counted already, busy; its credentials work. */
  #admit (ks: KeyState<R>, key: string, group: string, resource: R): Item<R> {
    ks.proven = true
    const item: Item<R> = { resource, key, group, state: 'busy', idleSince: Date.now(), idleTimer: null, doomed: false, slot: null }
    ks.items.add(item)
    this.#items.set(resource, item)
    return item
  }

  /** The first connection of a key failed: everyone waiting for that key gets the error. */
  #failKey (key: string, err: unknown): void {
    this.rememberFailure(key, err)
    for (const w of this.#waiters) if (w.key === key && !w.done) this.#settle(w, null, err)
  }

  #lend (item: Item<R>, w: Waiter<S, R>): void {
    if (item.idleTimer !== null) clearTimeout(item.idleTimer)
    item.idleTimer = null
    item.state = 'busy'
    const validate = this.#opts.validate
    if (validate === undefined) {
      this.#settle(w, item, null)
      return
    }
    const idleFor = Date.now() - item.idleSince
    const p = Promise.resolve().then(() => validate(item.resource, idleFor)).catch(() => false).then((ok) => {
      if (!ok || item.doomed) {
        this.#destroy(item)
        if (!w.done) this.#waiters.unshift(w)
        this.#dispatch()
      } else if (!this.#settle(w, item, null)) {
        this.#idle(item)
      }
    })
    this.#track(p)
  }

  /** Hand the waiter its result; false when it had already given up. */
  #settle (w: Waiter<S, R>, item: Item<R> | null, err: unknown): boolean {
    if (w.done) return false
    w.done = true
    clearTimeout(w.timer)
    if (item === null) w.reject(err)
    else {
      w.resolve(makeLease(item, () => {
        if (item.doomed || this.#closed || this.#gate.takeWanted(item.group)) this.#destroy(item)
        else this.#idle(item)
      }, () => this.#destroy(item)))
    }
    return true
  }

  #expire (w: Waiter<S, R>): void {
    if (w.done) return
    this.#settle(w, null, new PoolTimeoutError())
    this.#waiters = this.#waiters.filter(x => x !== w)
    this.#keys.dropIfEmpty(w.key)
  }

  #idle (item: Item<R>): void {
    if (item.state === 'dead') return
    const ks = this.#keys.of(item.key, item.group)
    item.state = 'idle'
    item.idleSince = Date.now()
    ks.idle.push(item)
    item.idleTimer = setTimeout(() => { if (item.state === 'idle') this.#destroy(item) }, this.#opts.idleMs)
    item.idleTimer.unref()
    this.#dispatch()
  }

  #destroy (item: Item<R>): Promise<void> {
    if (item.state === 'dead') return Promise.resolve()
    const ks = this.#keys.get(item.key)
    if (ks !== undefined) ks.idle = ks.idle.filter(i => i !== item)
    item.state = 'dead'
    if (item.idleTimer !== null) clearTimeout(item.idleTimer)
    this.#items.delete(item.resource)
    const p = Promise.resolve().then(() => this.#opts.destroy(item.resource)).catch(() => {}).then(() => {
      ks?.items.delete(item)
      item.slot?.()
      this.#counts.add(item.group, -1)
      this.#keys.dropIfEmpty(item.key)
      this.#dispatch()
    })
    this.#track(p)
    return p
  }

  #track (p: Promise<unknown>): void {
    this.#pending.add(p)
    p.finally(() => this.#pending.delete(p))
  }
}
