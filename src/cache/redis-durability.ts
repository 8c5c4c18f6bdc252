/**
 * Is this Redis fit to keep durable state (revocations; later webhooks and
 * idempotency records)? Checked when the connection becomes ready (start-up,
 * and after every reconnect: a restarted Redis may have another config), and
 * said in one log line.
 *
 * - Eviction: durable keys have no TTL (`mg:v1:state:*`), so `noeviction` and
 *   every `volatile-*` policy keep them (volatile-* evicts only keys with a
 *   TTL: the cache entries). `allkeys-*` may evict them: unsafe.
 * - Persistence: AOF (`appendonly yes`) keeps every acknowledged write but the
 *   last second's; RDB snapshots (`save …`) only what the last snapshot held;
 *   neither loses everything on a restart.
 * - Managed Redis often disables CONFIG: then `INFO` tells the policy and
 *   whether AOF is on, and what it cannot tell is reported as unknown.
 */
import type { Redis } from 'ioredis'
import type { CacheLogger } from './cache.ts'
import { describeError } from './cache.ts'
import { clusterOf } from './redis-store.ts'

export interface RedisDurability {
  /** maxmemory-policy, or null when Redis would not tell. */
  policy: string | null
  /** AOF on; null when unknown. */
  aof: boolean | null
  /** RDB snapshot rules configured; null when unknown (CONFIG disabled). */
  snapshots: boolean | null
  /** Where the answers came from. */
  source: 'config' | 'info' | 'none'
}

export type Verdict = { level: 'info' | 'warn', message: string }

async function fromConfig (client: Redis): Promise<RedisDurability> {
  const pairs = await client.config('GET', 'maxmemory-policy') as string[]
  const aof = await client.config('GET', 'appendonly') as string[]
  const save = await client.config('GET', 'save') as string[]
  return { policy: pairs[1] ?? null, aof: aof[1] === undefined ? null : aof[1] === 'yes', snapshots: save[1] === undefined ? null : save[1].trim() !== '', source: 'config' }
}

function infoField (text: string, name: string): string | null {
  const m = new RegExp(`^${name}:(.*)$`, 'm').exec(text)
  return m?.[1]?.trim() ?? null
}

async function fromInfo (client: Redis): Promise<RedisDurability> {
  const memory = await client.info('memory')
  const persistence = await client.info('persistence')
  const aof = infoField(persistence, 'aof_enabled')
  return { policy: infoField(memory, 'maxmemory_policy'), aof: aof === null ? null : aof === '1', snapshots: null, source: 'info' }
}

export async function inspectRedis (client: Redis): Promise<RedisDurability> {
  try {
    return await fromConfig(client)
  } catch {
    try {
      return await fromInfo(client)
    } catch {
      return { policy: null, aof: null, snapshots: null, source: 'none' }
    }
  }
}

/** Every master of a cluster must keep it: the first one that does not is reported (else the first). */
async function inspectDeployment (client: Redis): Promise<RedisDurability> {
  const cluster = clusterOf(client)
  if (cluster === null) return await inspectRedis(client)
  const all = await Promise.all(cluster.nodes('master').map(inspectRedis))
  return all.find(d => verdict(d).level === 'warn') ?? all[0] ?? { policy: null, aof: null, snapshots: null, source: 'none' }
}

/** One line: what holds, what does not, what to change. */
export function verdict (d: RedisDurability): Verdict {
  const problems: string[] = []
  if (d.policy === null) problems.push('the maxmemory-policy is unknown (CONFIG and INFO refused): it must be noeviction or volatile-*')
  else if (d.policy !== 'noeviction' && !d.policy.startsWith('volatile-')) problems.push(`maxmemory-policy ${d.policy} may evict revocations: use noeviction or volatile-lru`)
  if (d.aof === null) problems.push('persistence is unknown (CONFIG and INFO refused): make sure appendonly is yes')
  else if (!d.aof) {
    problems.push(d.snapshots === false
      ? 'persistence is off: a Redis restart forgets every revocation (set appendonly yes)'
      : 'AOF is off: a restart forgets revocations made since the last RDB snapshot, if any (set appendonly yes)')
  }
  const facts = `policy=${d.policy ?? 'unknown'} aof=${d.aof ?? 'unknown'} snapshots=${d.snapshots ?? 'unknown'}`
  return problems.length === 0
    ? { level: 'info', message: `cache: redis keeps durable state (revocations, idempotency records): ${facts}` }
    : { level: 'warn', message: `cache: redis may lose durable state (revocations, idempotency records): ${problems.join('; ')} (${facts})` }
}

/** Inspect on every 'ready' and log the verdict (a failure to inspect is itself logged). */
export function watchDurability (client: Redis, logger: CacheLogger): void {
  const check = (): void => {
    inspectDeployment(client).then((d) => {
      const v = verdict(d)
      logger[v.level]({ event: 'redis durability', ...d }, v.message)
    }, (err: unknown) => { logger.warn({ event: 'redis durability', err: describeError(err) }, 'cache: could not inspect redis') })
  }
  client.on('ready', check)
  if (client.status === 'ready') check()
}
