/**
 * How long a long-lived subscriber (an SSE stream, a GraphQL subscription
 * socket) may stay open on one token (contract §8): until the token expires,
 * within moments of a revocation made on this instance, and within
 * `recheckMs` of one made on another instance (the revocation store is read
 * again for every token that something holds, once per token, not per holder).
 *
 * It also counts each token's subscribers, so that SSE streams and GraphQL
 * subscriptions share one cap per token (429 `rate-limited` past it).
 */
import { GatewayError } from './errors.ts'
import type { Caller } from './service-types.ts'

export type TokenEnd = 'expired' | 'revoked'

/** setTimeout's longest delay; a later expiry is re-armed when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1

interface Holder { end: (why: TokenEnd) => void }

interface Held {
  holders: Set<Holder>
  /** Subscriber slots claimed (claim below). */
  slots: number
  recheck: NodeJS.Timeout | null
}

export class TokenLifetimes {
  readonly #held = new Map<string, Held>()

  /**
   * @param isRevoked the revocation store's check (never rejects)
   * @param recheckMs how often a held token is checked for a revocation made elsewhere; 0: never
   */
  constructor (
    private readonly isRevoked: (tokenId: string) => Promise<boolean>,
    private readonly recheckMs: number
  ) {}

  /**
   * Calls `end` once, when the caller's token expires or is revoked, unless
   * the returned release runs first. Release is idempotent.
   */
  watch (caller: Caller, end: (why: TokenEnd) => void): () => void {
    const held = this.#entry(caller.tokenId)
    let timer: NodeJS.Timeout | null = null
    const holder: Holder = {
      end: (why) => {
        release()
        end(why)
      },
    }
    const arm = (): void => {
      const left = caller.expiresAt - Date.now()
      if (left <= 0) {
        queueMicrotask(() => { if (held.holders.has(holder)) holder.end('expired') })
        return
      }
      timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS))
      timer.unref()
    }
    const release = (): void => {
      if (timer !== null) clearTimeout(timer)
      timer = null
      if (held.holders.delete(holder)) this.#prune(caller.tokenId, held)
    }
    held.holders.add(holder)
    this.#startRecheck(caller.tokenId, held)
    arm()
    return release
  }

  /**
   * One subscriber slot of the caller's token; `rate-limited` when `max` are
   * taken on this instance. The returned release is idempotent.
   */
  claim (caller: Caller, max: number): () => void {
    const held = this.#entry(caller.tokenId)
    if (held.slots >= max) {
      this.#prune(caller.tokenId, held)
      throw new GatewayError('rate-limited', `at most ${max} event subscribers per token`, { retryAfter: 1 })
    }
    held.slots++
    let released = false
    return () => {
      if (released) return
      released = true
      held.slots--
      this.#prune(caller.tokenId, held)
    }
  }

  /** A revocation made on this instance (Sessions.revoke): ends the token's holders now. */
  revoked (tokenId: string): void {
    const held = this.#held.get(tokenId)
    if (held === undefined) return
    for (const holder of [...held.holders]) holder.end('revoked')
  }

  /** Tokens with a holder or a slot (tests, stats). */
  get size (): number {
    return this.#held.size
  }

  /** Stops every recheck (shutdown); holders are not called. */
  close (): void {
    for (const held of this.#held.values()) this.#stopRecheck(held)
    this.#held.clear()
  }

  #entry (tokenId: string): Held {
    let held = this.#held.get(tokenId)
    if (held === undefined) {
      held = { holders: new Set(), slots: 0, recheck: null }
      this.#held.set(tokenId, held)
    }
    return held
  }

  #prune (tokenId: string, held: Held): void {
    if (held.holders.size > 0 || held.slots > 0) return
    this.#stopRecheck(held)
    if (this.#held.get(tokenId) === held) this.#held.delete(tokenId)
  }

  #startRecheck (tokenId: string, held: Held): void {
    if (held.recheck !== null || this.recheckMs <= 0) return
    let checking = false
    held.recheck = setInterval(() => {
      if (checking) return
      checking = true
      this.isRevoked(tokenId).then((revoked) => {
        checking = false
        if (revoked) this.revoked(tokenId)
      }, () => { checking = false })
    }, this.recheckMs)
    held.recheck.unref()
  }

  #stopRecheck (held: Held): void {
    if (held.recheck !== null) clearInterval(held.recheck)
    held.recheck = null
  }
}
