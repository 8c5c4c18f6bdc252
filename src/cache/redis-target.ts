/**
 * What REDIS_URL names: one Redis, or a Redis Cluster.
 *
 *   redis://[user:pass@]host:port[/db]              one server (rediss:// for TLS)
 *   redis+cluster://[user:pass@]host:port[,host:port…]   a cluster: the listed nodes are seeds,
 *   rediss+cluster://…                                    the client learns the rest (CLUSTER SLOTS)
 *
 * REDIS_CLUSTER=true reads a plain redis:// or rediss:// URL (for instance a managed
 * service's "configuration endpoint") as a cluster seed. A cluster has one database, so a
 * `/db` path is refused there rather than ignored.
 */

export interface RedisSeed { host: string, port: number }

export type RedisTarget =
  | { kind: 'single', url: string }
  | { kind: 'cluster', seeds: RedisSeed[], username?: string, password?: string, tls: boolean }

const CLUSTER_SCHEMES: Record<string, boolean> = { 'redis+cluster:': false, 'rediss+cluster:': true }

function seed (hostPort: string, url: string): RedisSeed {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(hostPort)
  const port = Number(m?.[2] ?? 6379)
  if (m?.[1] === undefined || port < 1 || port > 65535) throw new Error(`REDIS_URL: "${hostPort}" is not host:port in ${redact(url)}`)
  return { host: m[1].replace(/^\[|\]$/g, ''), port }
}

/** The URL without its password, for messages. */
export function redact (url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')
}

export function parseRedisTarget (url: string, cluster = false): RedisTarget {
  const scheme = /^[a-z+]+:/i.exec(url)?.[0].toLowerCase() ?? ''
  const tlsCluster = CLUSTER_SCHEMES[scheme]
  if (tlsCluster === undefined && !cluster) return { kind: 'single', url }
  if (tlsCluster === undefined && scheme !== 'redis:' && scheme !== 'rediss:') {
    throw new Error(`REDIS_URL must start with redis://, rediss://, redis+cluster:// or rediss+cluster://, got ${redact(url)}`)
  }
  const rest = url.slice(scheme.length).replace(/^\/\//, '')
  const at = rest.lastIndexOf('@')
  const auth = at < 0 ? '' : rest.slice(0, at)
  const [hosts = '', path = ''] = rest.slice(at + 1).split(/\/(.*)/s)
  if (path !== '' && path !== '0') throw new Error(`REDIS_URL: a Redis Cluster has one database (no /db path): ${redact(url)}`)
  const seeds = hosts.split(',').filter(Boolean).map(h => seed(h, url))
  if (seeds.length === 0) throw new Error(`REDIS_URL names no cluster node: ${redact(url)}`)
  const colon = auth.indexOf(':')
  const username = decodeURIComponent(colon < 0 ? auth : auth.slice(0, colon))
  const password = colon < 0 ? undefined : decodeURIComponent(auth.slice(colon + 1))
  return {
    kind: 'cluster',
    seeds,
    ...(username !== '' ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    tls: tlsCluster ?? scheme === 'rediss:',
  }
}
