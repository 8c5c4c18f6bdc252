/**
 * A lease holder in a process of its own (for the SIGKILL takeover test):
 * acquires the lease named LEASE_NAME on REDIS_URL for LEASE_TTL_MS, prints
 * `token:<n>`, renews it every third of the ttl until it is killed.
 */
import { RedisLeases } from '../../src/cache/redis-leases.ts'
import { RedisStore } from '../../src/cache/redis-store.ts'

const store = new RedisStore({ url: process.env.REDIS_URL ?? '', commandTimeoutMs: 2000 })
const leases = new RedisLeases(store, Buffer.from(process.env.LEASE_SECRET ?? '', 'hex'))
const ttl = Number(process.env.LEASE_TTL_MS)
for (;;) {
  const lease = store.status().status === 'ok' ? await leases.tryAcquire(process.env.LEASE_NAME ?? '', ttl).catch(() => null) : null
  if (lease !== null) {
    console.log(`token:${lease.fencingToken}`)
    setInterval(() => { lease.renew().catch(() => {}) }, ttl / 3)
    break
  }
  await new Promise(resolve => setTimeout(resolve, 50))
}
