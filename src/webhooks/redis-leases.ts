/**
 * Leases in Redis (the `Leases` port, src/mail/lease-port.ts): one holder per
 * name across the deployment, on Redis time (`PX`), so instance clocks do
 * not matter. The key is a keyed digest of the name (names may carry
 * account ids); the value is the holder's fencing token, from a counter
 * beside it, so renew and release act only for the holder that set it.
 *
 *   mg:v1:lease:<digest>        string, value = fencing token, PX = ttl
 *   mg:v1:lease-seq:<digest>    counter of grants; kept 7 days past the last one, far beyond any lease
 */
import type { Redis } from 'ioredis'
import { globalKey } from '../cache/keys.ts'
import type { Lease, Leases } from '../mail/lease-port.ts'

/** ARGV: token, ttl. 1 when still held by `token` and extended. */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`

const SEQ_KEEP_MS = 7 * 24 * 3_600_000

interface LeaseCommands {
  mgLeaseRenew: (key: string, token: string, ttlMs: number) => Promise<number>
  mgLeaseRelease: (key: string, token: string) => Promise<number>
}

export class RedisLeases implements Leases {
  readonly #client: Redis & LeaseCommands

  constructor (client: Redis, private readonly secret: Buffer) {
    if (!('mgLeaseRenew' in client)) {
      client.defineCommand('mgLeaseRenew', { numberOfKeys: 1, lua: RENEW })
      client.defineCommand('mgLeaseRelease', { numberOfKeys: 1, lua: RELEASE })
    }
    this.#client = client as Redis & LeaseCommands
  }

  async tryAcquire (name: string, ttlMs: number): Promise<Lease | null> {
    const key = globalKey(this.secret, 'lease', name)
    // cheap refusal while held, before growing the counter
    if (await this.#client.exists(key) === 1) return null
    const seq = globalKey(this.secret, 'lease-seq', name)
    const [[, token]] = await this.#client.multi().incr(seq).pexpire(seq, SEQ_KEEP_MS).exec() as [[null, number], unknown]
    if (await this.#client.set(key, String(token), 'PX', ttlMs, 'NX') !== 'OK') return null
    const client = this.#client
    let released = false
    return {
      fencingToken: token,
      renew: async () => !released && await client.mgLeaseRenew(key, String(token), ttlMs) === 1,
      release: async () => {
        if (released) return
        released = true
        await client.mgLeaseRelease(key, String(token)).catch(() => {})
      },
    }
  }
}
