/**
 * Leases in Redis (the `Leases` port, src/mail/lease-port.ts): one holder per
 * name in the deployment, with a fencing token.
 *
 *   mg:v1:{<tag>}:lease          string "<grant id>:<token>", PX = the lease's ttl
 *   mg:v1:state:{<tag>}:fence    counter, no TTL: the last token granted
 *
 * `<tag>` = accountTag(name): a lease named by an account id lies in that
 * account's Cluster slot, beside its other keys, so a script can check the
 * lease and write the account's state in one step. Both keys share the tag,
 * so each script below touches one slot.
 *
 * - Acquire: SET NX PX and INCR in one script, so every grant has a larger
 *   token than any earlier grant of the name, whichever instance got it.
 * - Renew and release compare the stored value with the grant's own (a random
 *   id per grant): a holder whose lease expired and was granted elsewhere can
 *   neither extend nor delete the new holder's lease.
 * - Expiry is Redis's (PX): instance clocks play no part.
 * - The fence counter must outlive every lease, so it has no TTL (durable
 *   state); one small key per name ever leased.
 */
import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Lease, Leases } from '../mail/lease-port.ts'
import { accountTag, KEY_PREFIX, KEY_VERSION } from './keys.ts'
import { STATE_PREFIX } from './redis-revocations.ts'
import { withScripts } from './redis-scripts.ts'
import type { RedisStore } from './redis-store.ts'

/** KEYS: lease, fence. ARGV: grant id, ttl ms. Returns the token, or false while held. */
const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. token, 'PX', ARGV[2])
return token
`
/** KEYS: lease. ARGV: value, ttl ms. 1 when still ours (and extended). */
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
`
/** KEYS: lease. ARGV: value. */
const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`

interface LeaseCommands {
  mgLeaseAcquire: (lease: string, fence: string, grant: string, ttlMs: number) => Promise<number | null>
  mgLeaseRenew: (lease: string, value: string, ttlMs: number) => Promise<number>
  mgLeaseRelease: (lease: string, value: string) => Promise<number>
}

const SCRIPTS = {
  mgLeaseAcquire: { numberOfKeys: 2, lua: ACQUIRE },
  mgLeaseRenew: { numberOfKeys: 1, lua: RENEW },
  mgLeaseRelease: { numberOfKeys: 1, lua: RELEASE },
} as const

function withCommands (client: Redis): Redis & LeaseCommands {
  return withScripts<LeaseCommands>(client, SCRIPTS)
}

/** The two keys of lease `name` (exported for scripts that fence a write with the lease). */
export function leaseKeys (secret: Buffer, name: string): { lease: string, fence: string } {
  const tag = accountTag(secret, name)
  return { lease: `${KEY_PREFIX}:${KEY_VERSION}:{${tag}}:lease`, fence: `${STATE_PREFIX}{${tag}}:fence` }
}

function wholeMs (ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs < 1) throw new RangeError(`lease ttl must be ≥ 1 ms, got ${ttlMs}`)
  return Math.ceil(ttlMs)
}

export class RedisLeases implements Leases {
  constructor (private readonly store: RedisStore, private readonly secret: Buffer) {
    // before any command (see RedisSlots): an auto-pipeline waiting meanwhile would break
    withCommands(store.client)
  }

  /**
   * The lease, or null while another grant holds it. Rejects when Redis cannot
   * be reached: the caller tries again later (nobody can be granted it then).
   */
  async tryAcquire (name: string, ttlMs: number): Promise<Lease | null> {
    const ttl = wholeMs(ttlMs)
    const { lease, fence } = leaseKeys(this.secret, name)
    const grant = randomUUID()
    const token = await this.store.strict('redis lease acquire failed', (client) =>
      withCommands(client).mgLeaseAcquire(lease, fence, grant, ttl))
    if (token === null) return null
    const value = `${grant}:${token}`
    let released = false
    return {
      fencingToken: Number(token),
      // an unreachable Redis counts as lost: the holder stops, and the lease
      // expires on Redis's clock before anyone else can be granted it
      renew: async () => !released && await this.store.strict('redis lease renew failed', (client) =>
        withCommands(client).mgLeaseRenew(lease, value, ttl)).then(n => n === 1, () => false),
      release: async () => {
        if (released) return
        released = true
        await this.store.strict('redis lease release failed', (client) =>
          withCommands(client).mgLeaseRelease(lease, value)).catch(() => {})
      },
    }
  }
}
