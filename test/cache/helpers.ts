/**
 * Shared fixtures for the cache tests: a private redis-server per test file
 * (the harness's test/env/redis.ts when present, else a local one started
 * here), and the list of store factories every suite loops over.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { CacheLogger, CacheStore } from '../../src/cache/cache.ts'
import { MemoryStore } from '../../src/cache/memory-store.ts'
import { RedisStore } from '../../src/cache/redis-store.ts'

export interface TestRedis {
  url: string
  port: number
  stop: () => Promise<void>
  kill: () => Promise<void>
  restart: () => Promise<void>
}

export async function startRedis (): Promise<TestRedis> {
  const harness = new URL('../env/redis.ts', import.meta.url)
  if (existsSync(harness)) {
    const mod = await import(harness.href) as { startRedis: () => Promise<TestRedis> }
    return await mod.startRedis()
  }
  return await startLocalRedis()
}

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() => { resolve(typeof addr === 'object' && addr !== null ? addr.port : 0) })
    })
  })
}

async function waitForPort (port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const up = await new Promise<boolean>(resolve => {
      const s = createConnection({ host: '127.0.0.1', port })
      s.once('connect', () => { s.destroy(); resolve(true) })
      s.once('error', () => { resolve(false) })
    })
    if (up) return
    await sleep(25)
  }
  throw new Error(`redis-server did not listen on ${port}`)
}

async function startLocalRedis (): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'mg-cache-redis-'))
  const port = await freePort()
  let child: ChildProcess | null = null
  const launch = async (): Promise<void> => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
      '--appendonly', 'no', '--dir', dir, '--protected-mode', 'yes'], { stdio: 'ignore' })
    await waitForPort(port)
  }
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child as ChildProcess | null
    child = null
    if (c === null || c.exitCode !== null) return
    const gone = new Promise(resolve => c.once('exit', resolve))
    c.kill(signal)
    await gone
  }
  await launch()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: async () => { await halt('SIGKILL') },
    restart: async () => { await halt('SIGKILL'); await launch() },
    stop: async () => { await halt('SIGTERM'); rmSync(dir, { recursive: true, force: true }) },
  }
}

export async function waitFor (cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

export async function connectedRedisStore (url: string, logger?: CacheLogger): Promise<RedisStore> {
  const store = new RedisStore(logger === undefined ? { url } : { url, logger })
  await waitFor(() => store.status().status === 'ok', 5000, 'redis store ready')
  return store
}

export interface StoreFactory {
  name: 'memory' | 'redis'
  make: (opts?: { maxBytes?: number }) => Promise<CacheStore>
}

/** Every cache suite loops over these; `redisUrl` from startRedis(). */
export function storeFactories (redisUrl: () => string): StoreFactory[] {
  return [
    { name: 'memory', make: async (opts) => new MemoryStore({ maxBytes: opts?.maxBytes ?? 8 * 1024 * 1024 }) },
    { name: 'redis', make: async () => await connectedRedisStore(redisUrl()) },
  ]
}
