/**
 * KeyedPool with a group gate (deployment-wide slots, PoolOptions.gate): two
 * pools sharing one gate never hold more than its limit per group; only a
 * create asks the gate (a reuse does not); a destroyed resource gives its slot
 * back; a refused waiter is served once a slot is freed; "wanted" makes the
 * other pool close an idle resource; a failing gate grants.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { KeyedPool } from '../../src/pool/index.ts'
import type { GroupGate } from '../../src/pool/index.ts'

interface Fake { id: number }

/** A shared counting gate, as Redis would keep it, with the message fan-out to every listener. */
function sharedGate (limit: number) {
  const held = new Map<string, number>()
  const stats = { takes: 0, maxHeld: 0 }
  const listeners: Array<{ freed: (g: string) => void, wanted: (g: string) => void }> = []
  const gate = (): GroupGate => ({
    take: async (group) => {
      stats.takes++
      await sleep(1)
      const n = held.get(group) ?? 0
      if (n >= limit) {
        for (const l of listeners) l.wanted(group)
        return null
      }
      held.set(group, n + 1)
      stats.maxHeld = Math.max(stats.maxHeld, n + 1)
      let given = false
      return () => {
        if (given) return
        given = true
        held.set(group, (held.get(group) ?? 1) - 1)
        for (const l of listeners) l.freed(group)
      }
    },
    listen: (events) => { listeners.push(events) },
  })
  return { gate, held, stats }
}

function pool (gate: GroupGate, over: { idleMs?: number } = {}): KeyedPool<string, Fake> {
  let next = 1
  return new KeyedPool<string, Fake>({
    create: async () => { await sleep(5); return { id: next++ } },
    destroy: async () => { await sleep(2) },
    maxPerGroup: 3,
    maxTotal: 100,
    idleMs: over.idleMs ?? 10_000,
    acquireTimeoutMs: 10_000,
    gate,
    gateRetryMs: 50,
  })
}

test('two pools sharing a gate of 2 never hold more than 2 per group; every waiter is served', async () => {
  const { gate, stats, held } = sharedGate(2)
  const a = pool(gate())
  const b = pool(gate())
  try {
    const work = Array.from({ length: 40 }, async (_, i) => {
      const lease = await (i % 2 === 0 ? a : b).acquire('k', 'acct', 'spec')
      await sleep(3)
      lease.release()
    })
    await Promise.all(work)
    assert.ok(stats.maxHeld <= 2, `held ${stats.maxHeld}`)
    assert.ok(a.stats().total + b.stats().total <= 2)
  } finally {
    await Promise.all([a.close(), b.close()])
  }
  assert.equal(held.get('acct'), 0, 'closing gave every slot back')
})

test('a reuse asks the gate nothing; a destroy gives the slot back', async () => {
  const { gate, stats, held } = sharedGate(1)
  const a = pool(gate())
  try {
    for (let i = 0; i < 5; i++) (await a.acquire('k', 'acct', 'spec')).release()
    assert.equal(stats.takes, 1, 'one create, four reuses')
    const lease = await a.acquire('k', 'acct', 'spec')
    lease.destroy()
    await sleep(20)
    assert.equal(held.get('acct'), 0)
  } finally {
    await a.close()
  }
})

test('another pool waiting for the group makes this one close its idle resource', async () => {
  const { gate, held } = sharedGate(1)
  const a = pool(gate())
  const b = pool(gate())
  try {
    (await a.acquire('k', 'acct', 'spec')).release()
    assert.equal(a.stats().idle, 1)
    const lease = await b.acquire('k', 'acct', 'spec')
    assert.equal(a.stats().total, 0, 'a gave its idle connection up')
    assert.equal(held.get('acct'), 1)
    lease.release()
  } finally {
    await Promise.all([a.close(), b.close()])
  }
})

test('a gate that fails grants: the per-process cap still holds', async () => {
  const a = pool({ take: async () => { throw new Error('redis away') } })
  try {
    const leases = await Promise.all([1, 2, 3].map(async () => await a.acquire('k', 'acct', 'spec')))
    assert.equal(a.stats().total, 3)
    for (const l of leases) l.release()
  } finally {
    await a.close()
  }
})
