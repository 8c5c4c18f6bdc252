/**
 * A deployment of gateway processes for the many-instance tests: three (or n)
 * `src/server.ts` processes on loopback sharing GATEWAY_SECRET and one Redis
 * (single or cluster), the Redis backends those tests run on, and the probes
 * they share (who holds an IMAP connection, how many processes listen to an
 * account's events, a poll with a deadline, a first change seen by the
 * account's watcher).
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { accountTag, cacheKey } from '../../src/cache/keys.ts'
import { startGatewayProcess, type GatewayProcess } from '../build/gateway-process.ts'
import { imapAppend } from '../env/imap-append.ts'
import { testEnv, testRedisCluster } from '../env/shared.ts'
import type { Receiver } from '../webhooks/harness.ts'

/** The Redis a deployment shares: the run's single Redis or its three-master cluster. */
export const BACKENDS = [
  { name: 'one Redis', url: async () => (await testEnv()).redis.url },
  { name: 'a Redis Cluster', url: async () => (await testRedisCluster()).url },
] as const

/** `n` gateway processes sharing `secret` and the Redis at `redisUrl`, with webhooks to loopback allowed. */
export async function startDeployment (n: number, secret: string, redisUrl: string, env: Record<string, string> = {}): Promise<GatewayProcess[]> {
  const { dovecot } = await testEnv()
  return await Promise.all(Array.from({ length: n }, async () => await startGatewayProcess(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    GATEWAY_SECRET: secret,
    REDIS_URL: redisUrl,
    MAIL_ALLOWED_HOSTS: '127.0.0.1',
    MAIL_TLS_CA_FILE: dovecot.caFile,
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    WEBHOOK_RETRY_BASE_MS: '200',
    UPSTREAM_TIMEOUT_MS: '15000',
    LOG_LEVEL: 'info',
    ...env,
  })))
}

/** Established TCP connections to `port` per owning process id (as `ss -tnp` reports them). */
export async function connectionsByPid (port: number): Promise<Map<number, number>> {
  const { stdout } = await promisify(execFile)('ss', ['-tnpH', 'state', 'established', `( dport = :${port} )`])
  const counts = new Map<number, number>()
  for (const m of stdout.matchAll(/pid=(\d+)/g)) counts.set(Number(m[1]), (counts.get(Number(m[1])) ?? 0) + 1)
  return counts
}

/** The one process of `gateways` connected to `port` (its watch connection), once there is exactly one. */
export async function soleHolder (gateways: GatewayProcess[], port: number, timeoutMs = 60_000): Promise<GatewayProcess> {
  const pids = new Set(gateways.map(g => g.child.pid))
  return await until(async () => {
    const owners = [...(await connectionsByPid(port)).keys()].filter(pid => pids.has(pid))
    return owners.length === 1 ? gateways.find(g => g.child.pid === owners[0]) : undefined
  }, 'one process to watch the account', timeoutMs)
}

export async function until<T> (probe: () => Promise<T | undefined>, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 250))
  }
}

/**
 * The watcher counts changes from its first look at INBOX: APPENDs primer messages
 * (subject `primer <n>`) until one reaches `path` at the receiver, so what the test
 * appends next comes after that first look.
 */
export async function primeWatch (imapPort: number, user: { username: string, password: string }, receiver: Receiver, path: string): Promise<void> {
  let primers = 0
  await until(async () => {
    if (receiver.requests.some(r => r.path === path)) return true
    await imapAppend(imapPort, user, [{ raw: Buffer.from(`From: p@example.com\r\nSubject: primer ${primers++}\r\n\r\nprimer\r\n`) }])
    await new Promise(resolve => setTimeout(resolve, 1000))
    return undefined
  }, 'a first message.created from the watching process', 60_000)
}

/**
 * Subscribers of the account's event channel (src/events/redis-bus.ts), summed over the
 * Redis nodes of `redisUrl` (PUBSUB NUMSUB is per node in a cluster): each gateway process
 * listening to the account's events holds one.
 */
export async function busListeners (redisUrl: string, secret: string, accountId: string): Promise<number> {
  const key = Buffer.from(secret, 'utf8')
  const channel = cacheKey(key, accountTag(key, accountId), 'event-fanout')
  const nodes = redisUrl.replace(/^[a-z+]+:\/\//, '').split(',')
  let total = 0
  for (const node of nodes) {
    const [host, port] = node.split(':') as [string, string]
    const client = new Redis({ host, port: Number(port), lazyConnect: true, maxRetriesPerRequest: 1 })
    client.on('error', () => {})
    try {
      await client.connect()
      const reply = await client.pubsub('NUMSUB', channel) as [string, number]
      total += Number(reply[1])
    } finally {
      client.disconnect()
    }
  }
  return total
}
