/**
 * Single-use tickets (src/events/tickets.ts) in Redis, so that any instance
 * redeems a ticket exactly once: `SET … PX <ttl> NX`, then `GETDEL`.
 *
 *   mg:v1:ticket:<digest>     string, TTL ≤ 60 s
 *
 * The key is a keyed digest of the ticket and the value is the bearer token
 * sealed under a key derived from the gateway secret (AAD = the key), so a
 * Redis dump yields neither a ticket nor a token. Failures reject (the face
 * answers 503): a ticket is never acknowledged and then lost.
 */
import { deriveKey, globalKey } from './keys.ts'
import type { RedisStore } from './redis-store.ts'
import { seal, unseal } from './seal.ts'

export class RedisTicketStore {
  readonly #aead: Buffer

  constructor (private readonly store: RedisStore, private readonly secret: Buffer) {
    this.#aead = deriveKey(secret, 'event-ticket-aead')
  }

  async put (ticket: string, token: string, ttlMs: number): Promise<void> {
    const key = globalKey(this.secret, 'ticket', ticket)
    const sealed = await seal(this.#aead, key, Buffer.from(token, 'utf8'))
    const ok = await this.store.strict('redis ticket write failed', (c) => c.set(key, sealed, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'))
    if (ok !== 'OK') throw new Error('ticket collision')
  }

  async take (ticket: string): Promise<string | null> {
    const key = globalKey(this.secret, 'ticket', ticket)
    const sealed = await this.store.strict('redis ticket read failed', (c) => c.getdelBuffer(key))
    if (sealed === null) return null
    const plain = await unseal(this.#aead, key, sealed)
    return plain === null ? null : plain.toString('utf8')
  }
}
