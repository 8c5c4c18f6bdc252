/**
 * Redis leases (src/cache/redis-leases.ts) against the real single Redis and
 * the real three-master cluster: one holder at a time, fencing tokens that
 * grow with every grant, expiry on Redis's clock, renew/release that only the
 * current grant can do, the keys' slot and TTLs; and a holder SIGKILLed in
 * another process is taken over once its ttl has run out.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { leaseKeys, RedisLeases } from '../../src/cache/redis-leases.ts'
import type { RedisStore } from '../../src/cache/redis-store.ts'
import { adminClient, bothRedisKinds, connectedRedisStore, keySlot } from './helpers.ts'

const secret = randomBytes(32)
const targets = bothRedisKinds()

/** A holder in its own process; resolves with its pid and fencing token once it holds the lease. */
async function holderProcess (url: string, name: string, ttlMs: number): Promise<{ kill: () => void, token: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/cache/lease-holder.ts'], {
    env: { ...process.env, REDIS_URL: url, LEASE_NAME: name, LEASE_TTL_MS: String(ttlMs), LEASE_SECRET: secret.toString('hex') },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const kill = (): void => { child.kill('SIGKILL') }
  const token = await new Promise<number>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /token:(\d+)/.exec(out)
      if (m !== null) resolve(Number(m[1]))
    })
    child.once('exit', code => reject(new Error(`lease holder exited (${code}): ${out}`)))
  }).catch((err: unknown) => { kill(); throw err })
  return { kill, token }
}

for (const target of targets) {
  describe(`leases (${target.name})`, () => {
    let store: RedisStore
    let leases: RedisLeases
    before(async () => {
      store = await connectedRedisStore(target.url())
      leases = new RedisLeases(store, secret)
    })
    after(async () => { await store.close() })

    test('one holder at a time; each grant has a larger fencing token', async () => {
      const name = `acct-${randomUUID()}`
      const first = await leases.tryAcquire(name, 30_000)
      assert.ok(first !== null)
      assert.equal(await leases.tryAcquire(name, 30_000), null, 'held: nobody else is granted it')
      assert.equal(await new RedisLeases(store, secret).tryAcquire(name, 30_000), null, 'nor another instance')
      assert.equal(await first.renew(), true)
      await first.release()
      await first.release()
      const second = await leases.tryAcquire(name, 30_000)
      assert.ok(second !== null)
      assert.ok(second.fencingToken > first.fencingToken, `${second.fencingToken} > ${first.fencingToken}`)
      // another name is independent
      assert.ok(await leases.tryAcquire(`acct-${randomUUID()}`, 30_000) !== null)
      await second.release()
    })

    test('an expired lease goes to the next asker; the old grant can neither renew nor release it', async () => {
      const name = `acct-${randomUUID()}`
      const old = await leases.tryAcquire(name, 300)
      assert.ok(old !== null)
      let next = null
      for (let i = 0; i < 100 && next === null; i++) {
        next = await leases.tryAcquire(name, 30_000)
        if (next === null) await sleep(50)
      }
      assert.ok(next !== null, 'granted after the ttl')
      assert.ok(next.fencingToken > old.fencingToken)
      assert.equal(await old.renew(), false, 'the old grant lost it')
      await old.release()
      assert.equal(await leases.tryAcquire(name, 30_000), null, 'the old release left the new grant alone')
      assert.equal(await next.renew(), true)
      await next.release()
    })

    test('renew keeps a lease past its ttl', async () => {
      const name = `acct-${randomUUID()}`
      const lease = await leases.tryAcquire(name, 400)
      assert.ok(lease !== null)
      for (let i = 0; i < 6; i++) {
        await sleep(150)
        assert.equal(await lease.renew(), true)
      }
      assert.equal(await leases.tryAcquire(name, 400), null, 'still held after 900 ms')
      await lease.release()
      assert.equal(await lease.renew(), false, 'released: renew says lost')
    })

    test('both keys share one slot, the lease has a TTL, the fence none, the name is not in clear', async () => {
      const name = `user@example.com:993:${randomUUID()}`
      const lease = await leases.tryAcquire(name, 30_000)
      assert.ok(lease !== null)
      const keys = leaseKeys(secret, name)
      const admin = await adminClient(target.url())
      try {
        const pttl = await admin.pttl(keys.lease)
        assert.ok(pttl > 25_000 && pttl <= 30_000, `lease pttl ${pttl}`)
        assert.equal(await admin.ttl(keys.fence), -1, 'the fence counter never expires')
        assert.equal(Number(await admin.get(keys.fence)), lease.fencingToken)
        for (const key of Object.values(keys)) assert.ok(!key.includes('example.com') && !key.includes(name))
        if (target.name === 'redis-cluster') assert.equal(await keySlot(admin, keys.lease), await keySlot(admin, keys.fence))
      } finally {
        admin.disconnect()
        await lease.release()
      }
    })
  })
}

test('a lease held by a SIGKILLed process is taken over once its ttl ran out, with a larger token', async () => {
  const ttlMs = 30_000
  await Promise.all(targets.map(async (target) => {
    const store = await connectedRedisStore(target.url())
    const leases = new RedisLeases(store, secret)
    const name = `acct-${randomUUID()}`
    try {
      const holder = await holderProcess(target.url(), name, ttlMs)
      holder.kill()
      const killedAt = Date.now()
      let lease = await leases.tryAcquire(name, ttlMs)
      assert.equal(lease, null, `${target.name}: the dead holder's lease lasts until its ttl`)
      while (lease === null && Date.now() - killedAt < ttlMs + 10_000) {
        await sleep(250)
        lease = await leases.tryAcquire(name, ttlMs)
      }
      const after = Date.now() - killedAt
      assert.ok(lease !== null, `${target.name}: taken over`)
      assert.ok(after <= ttlMs + 1000, `${target.name}: taken over ${after} ms after the kill (ttl ${ttlMs})`)
      assert.ok(lease.fencingToken > holder.token, `${target.name}: token ${lease.fencingToken} > ${holder.token}`)
      await lease.release()
    } finally {
      await store.close()
    }
  }))
})
