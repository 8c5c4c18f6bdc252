/**
 * A real three-master Redis Cluster on private loopback ports, for tests:
 * three `redis-server --cluster-enabled yes` (no persistence, each tethered to
 * this process) joined by `redis-cli --cluster create … --cluster-replicas 0`.
 * Every slot is served once the promise resolves.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, mkdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePorts, waitForPorts } from './ports.ts'
import { spawnTethered, type Tethered } from './tether.ts'

const run = promisify(execFile)

export interface RedisClusterEnv {
  /** `redis+cluster://127.0.0.1:<p1>,127.0.0.1:<p2>,127.0.0.1:<p3>` (the gateway's REDIS_URL form). */
  url: string
  ports: number[]
  stop: () => Promise<void>
}

async function node (port: number, dir: string): Promise<Tethered> {
  await mkdir(dir, { recursive: true })
  return await spawnTethered('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-node-timeout', '5000',
    '--dir', dir, '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'warning',
  ], { cleanupDir: dir })
}

async function clusterState (port: number): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'cluster', 'info'])
  return /cluster_state:(\w+)/.exec(stdout)?.[1] ?? 'unknown'
}

async function launch (dir: string): Promise<{ ports: number[], nodes: Tethered[] }> {
  const ports = await freePorts(3)
  const nodes = await Promise.all(ports.map(async (p) => await node(p, join(dir, String(p)))))
  try {
    await waitForPorts(ports, true, 10_000, () => nodes.every(n => n.alive()))
    await run('redis-cli', ['--cluster', 'create', ...ports.map(p => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 })
    // every node must agree that all slots are served before a client looks
    const deadline = Date.now() + 15_000
    while ((await Promise.all(ports.map(clusterState))).some(s => s !== 'ok')) {
      if (Date.now() > deadline) throw new Error('cluster_state did not become ok')
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    return { ports, nodes }
  } catch (err) {
    await Promise.all(nodes.map(async (n) => { n.signal('SIGKILL'); await n.exited }))
    throw new Error(`redis cluster did not start on ${ports.join(', ')}: ${(err as Error).message}\n${nodes.map(n => n.output()).join('\n')}`)
  }
}

export async function startRedisCluster (): Promise<RedisClusterEnv> {
  const dir = await mkdtemp(join(tmpdir(), 'mgw-redis-cluster-'))
  let started: { ports: number[], nodes: Tethered[] } | undefined
  for (let attempt = 0; started === undefined; attempt++) {
    try {
      started = await launch(join(dir, String(attempt)))
    } catch (err) {
      // a port taken between freePorts() and the bind: try other ports
      if (attempt >= 3) {
        await rm(dir, { recursive: true, force: true })
        throw err
      }
    }
  }
  const { ports, nodes } = started
  return {
    url: `redis+cluster://${ports.map(p => `127.0.0.1:${p}`).join(',')}`,
    ports,
    stop: async () => {
      await Promise.all(nodes.map(async (n) => { await n.stop() }))
      await rm(dir, { recursive: true, force: true })
    },
  }
}
