import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePorts, waitForPorts } from './ports.ts'
import { spawnTethered, type Tethered } from './tether.ts'

export interface RedisEnv {
  /** `redis://127.0.0.1:<port>` */
  url: string
  host: '127.0.0.1'
  port: number
  /** Graceful stop and removal of the temp dir. */
  stop: () => Promise<void>
  /** SIGKILL (an outage); the port stays reserved for restart(). */
  kill: () => Promise<void>
  /** Starts a fresh, empty redis-server on the same port after stop()/kill(). */
  restart: () => Promise<void>
}

async function launch (port: number, dir: string): Promise<Tethered> {
  await mkdir(dir, { recursive: true })
  const proc = await spawnTethered('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', dir, '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'warning'
  ], { cleanupDir: dir })
  try {
    await waitForPorts([port], true, 10_000, proc.alive)
  } catch (err) {
    proc.signal('SIGKILL')
    await proc.exited
    throw new Error(`redis-server did not start on ${port}: ${(err as Error).message}\n${proc.output()}`)
  }
  return proc
}

/**
 * Starts a throw-away `redis-server` (no persistence) on a free loopback port. Tests that
 * kill or restart Redis must start their own instance, never use the shared one.
 */
export async function startRedis (): Promise<RedisEnv> {
  const dir = await mkdtemp(join(tmpdir(), 'mgw-redis-'))
  let proc: Tethered | undefined
  let port = 0
  for (let attempt = 0; proc === undefined; attempt++) {
    port = (await freePorts(1))[0]!
    try {
      proc = await launch(port, dir)
    } catch (err) {
      if (attempt >= 3 || !/in use/i.test((err as Error).message)) {
        await rm(dir, { recursive: true, force: true })
        throw err
      }
    }
  }
  const down = async (how: 'stop' | 'kill'): Promise<void> => {
    const p = proc
    proc = undefined
    if (p === undefined) return
    if (how === 'kill') p.signal('SIGKILL')
    else p.signal('SIGTERM')
    await p.exited
    await waitForPorts([port], false, 5000)
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    kill: async () => await down('kill'),
    stop: async () => {
      await down('stop')
      await rm(dir, { recursive: true, force: true })
    },
    restart: async () => {
      await down('stop')
      proc = await launch(port, dir)
    }
  }
}
