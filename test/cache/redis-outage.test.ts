/**
 * Redis outages: killed (SIGKILL) mid-run and frozen (a proxy that stops
 * forwarding). Cache calls never throw or hang, cache-through keeps serving
 * from "upstream", status() says degraded, and the store recovers by itself.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createConnection, createServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { createSealedCache } from '../../src/cache/sealed.ts'
import { connectedRedisStore, startRedis, waitFor } from './helpers.ts'
import type { TestRedis } from './helpers.ts'

let redis: TestRedis
before(async () => { redis = await startRedis() })
after(async () => { await redis.stop() })

async function timed<T> (p: Promise<T>): Promise<{ value: T, ms: number }> {
  const t0 = performance.now()
  const value = await p
  return { value, ms: performance.now() - t0 }
}

describe('RedisStore outage', () => {
  test('SIGKILL mid-run: calls resolve fast, reads fall through to upstream, status degraded, then recovers', async () => {
    const lines: string[] = []
    const capture = (level: string) => (obj: object, msg: string) => { lines.push(`${level} ${msg} ${JSON.stringify(obj)}`) }
    const store = await connectedRedisStore(redis.url, { warn: capture('warn'), info: capture('info') })
    try {
      const c = createSealedCache(store, randomBytes(32)).forAccount('acct-outage')
      let upstream = 0
      const load = async (): Promise<{ ok: true }> => { upstream++; return { ok: true } }
      assert.deepEqual(await c.rememberJson('mailboxes', [], 60, load), { ok: true })
      assert.deepEqual(await c.rememberJson('mailboxes', [], 60, load), { ok: true })
      assert.equal(upstream, 1, 'cached while Redis is up')

      await redis.kill()
      // Keep issuing requests right through the outage.
      for (let i = 0; i < 20; i++) {
        const g = await timed(store.get(`k${i}`))
        assert.equal(g.value, null)
        assert.ok(g.ms < 1000, `get took ${g.ms} ms`)
        const s = await timed(store.set(`k${i}`, Buffer.from('v'), 60))
        assert.ok(s.ms < 1000, `set took ${s.ms} ms`)
        const d = await timed(store.del(`k${i}`))
        assert.ok(d.ms < 1000, `del took ${d.ms} ms`)
        const r = await timed(c.rememberJson('mailboxes', [], 60, load))
        assert.deepEqual(r.value, { ok: true }, 'request still succeeds from upstream')
        assert.ok(r.ms < 1000)
        await sleep(25)
      }
      assert.ok(upstream > 1, 'served from upstream during the outage')
      assert.deepEqual(store.status(), { backend: 'redis', status: 'degraded' })

      await redis.restart()
      await waitFor(() => store.status().status === 'ok', 10_000, 'status ok after restart')
      await store.set('after', Buffer.from('back'), 60)
      assert.equal((await store.get('after'))?.toString(), 'back')
      const before = upstream
      await c.rememberJson('mailboxes', [], 60, load)
      await c.rememberJson('mailboxes', [], 60, load)
      assert.equal(upstream, before + 1, 'caching again after recovery')
      // ~80 failing calls during the outage: a handful of rate-limited lines, no keys, an info on recovery.
      const warns = lines.filter(l => l.startsWith('warn'))
      assert.ok(warns.length >= 1 && warns.length <= 6, `${warns.length} warn lines:\n${warns.join('\n')}`)
      assert.ok(lines.some(l => l.startsWith('info') && l.includes('restored')))
      assert.ok(!lines.some(l => /k1\b|mg:v1|after/.test(l)), 'no keys in log lines')
    } finally {
      await store.close()
    }
  })

  test('frozen Redis (connection up, no replies): calls time out quickly, degraded, then ok when it answers again', async () => {
    const proxy = await startFreezableProxy(redis.port)
    const store = await connectedRedisStore(`redis://127.0.0.1:${proxy.port}`)
    try {
      await store.set('f', Buffer.from('1'), 60)
      assert.equal((await store.get('f'))?.toString(), '1')
      proxy.frozen = true
      const first = await timed(store.get('f'))
      assert.equal(first.value, null)
      assert.ok(first.ms < 1000, `first get took ${first.ms} ms`)
      assert.equal(store.status().status, 'degraded')
      // Inside the breaker window later calls do not even wait for the timeout.
      const second = await timed(store.get('f'))
      assert.equal(second.value, null)
      assert.ok(second.ms < 200, `second get took ${second.ms} ms`)
      proxy.frozen = false
      await waitFor(() => store.status().status === 'ok', 10_000, 'status ok after thaw')
      assert.equal((await store.get('f'))?.toString(), '1')
    } finally {
      await store.close()
      await proxy.close()
    }
  })

  test('a store pointed at nothing never throws and reports degraded', async () => {
    const dead = createServer()
    await new Promise<void>(resolve => dead.listen(0, '127.0.0.1', resolve))
    const addr = dead.address()
    const port = typeof addr === 'object' && addr !== null ? addr.port : 0
    await new Promise(resolve => dead.close(resolve))
    const { RedisStore } = await import('../../src/cache/redis-store.ts')
    const store = new RedisStore({ url: `redis://127.0.0.1:${port}` })
    try {
      const g = await timed(store.get('x'))
      assert.equal(g.value, null)
      assert.ok(g.ms < 1000)
      await store.set('x', Buffer.from('y'), 10)
      assert.equal(store.status().status, 'degraded')
    } finally {
      await store.close()
    }
  })
})

interface FreezableProxy { port: number, frozen: boolean, close: () => Promise<void> }

/** TCP proxy to Redis that, while frozen, swallows client bytes without forwarding (a stalled server). */
async function startFreezableProxy (targetPort: number): Promise<FreezableProxy> {
  const sockets = new Set<Socket>()
  const state = { frozen: false }
  const server: Server = createServer(client => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort })
    sockets.add(client)
    sockets.add(upstream)
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
    client.on('data', chunk => { if (!state.frozen) upstream.write(chunk) })
    upstream.on('data', chunk => { if (!state.frozen) client.write(chunk) })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const addr = server.address()
  return {
    port: typeof addr === 'object' && addr !== null ? addr.port : 0,
    get frozen () { return state.frozen },
    set frozen (v: boolean) { state.frozen = v },
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise(resolve => server.close(resolve))
    },
  }
}
