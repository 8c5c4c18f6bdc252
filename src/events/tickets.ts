/**
 * Tickets for EventSource (contract §8): a browser cannot send a header, and
 * a token never goes in a URL, so `POST /v1/events/tickets` trades the bearer
 * token for a single-use ticket valid 60 s, accepted once as `?ticket=`.
 *
 * A ticket is 256 random bits; the store keeps the token under a keyed digest
 * of it, so whoever reads the store learns neither. With Redis any instance
 * redeems a ticket exactly once (GETDEL); without it, this process's map.
 */
import { randomBytes } from 'node:crypto'
import { GatewayError } from '../mail/errors.ts'
import type { OneTimeStore } from '../mail/events.ts'
import type { Caller } from '../mail/service-types.ts'
import { ExpiringMap } from '../util/expiring-map.ts'

export const TICKET_TTL_MS = 60_000
/** base64url of 32 bytes. */
const TICKET_RE = /^[A-Za-z0-9_-]{43}$/

/** Where tickets live: `put` once, `take` at most once (the value, then never again). */
export type TicketStore = OneTimeStore

/** One process: tickets in memory, at most `max` outstanding. */
export class MemoryTicketStore implements TicketStore {
  readonly #map: ExpiringMap<string>
  constructor (max = 100_000) { this.#map = new ExpiringMap(max) }
  async put (ticket: string, token: string, ttlMs: number): Promise<void> { this.#map.set(ticket, token, ttlMs) }
  async take (ticket: string): Promise<string | null> {
    const token = this.#map.get(ticket)
    this.#map.delete(ticket)
    return token ?? null
  }
}

export class Tickets {
  constructor (private readonly store: TicketStore, private readonly now: () => number = Date.now) {}

  /** A ticket for the caller's token, expiring in 60 s or with the token, whichever is first. */
  async issue (caller: Caller, token: string): Promise<{ ticket: string, expiresAt: string }> {
    const ttlMs = Math.min(TICKET_TTL_MS, caller.expiresAt - this.now())
    if (ttlMs <= 0) throw new GatewayError('unauthorized', 'token expired')
    const ticket = randomBytes(32).toString('base64url')
    try {
      await this.store.put(ticket, token, ttlMs)
    } catch (err) {
      throw new GatewayError('unavailable', 'the ticket could not be stored; repeat the request', { retryAfter: 1, cause: err })
    }
    return { ticket, expiresAt: new Date(this.now() + ttlMs).toISOString() }
  }

  /** The token a ticket was issued for, once; a malformed, used or expired ticket is 401. */
  async redeem (ticket: string): Promise<string> {
    if (!TICKET_RE.test(ticket)) throw new GatewayError('unauthorized', 'malformed ticket')
    let token: string | null
    try {
      token = await this.store.take(ticket)
    } catch (err) {
      throw new GatewayError('unavailable', 'tickets cannot be redeemed right now; ask for a new one', { retryAfter: 1, cause: err })
    }
    if (token === null) throw new GatewayError('unauthorized', 'unknown, used or expired ticket')
    return token
  }
}
