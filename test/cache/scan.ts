/**
 * Scans a whole Redis database for leaks: every key must have a TTL (but the
 * durable state under `mg:v1:state:`, which must not have one), and no key or
 * value may contain any of the given needles in clear. Reusable by
 * end-to-end tests (run the gateway against Redis, then scan).
 */
import { Redis } from 'ioredis'
import { STATE_PREFIX } from '../../src/cache/redis-revocations.ts'

export interface ScanReport {
  keys: string[]
  problems: string[]
}

export async function scanRedis (url: string, needles: readonly string[]): Promise<ScanReport> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  client.on('error', () => {})
  await client.connect()
  const keys: string[] = []
  const problems: string[] = []
  const patterns = needles.flatMap(n => [Buffer.from(n, 'utf8'), Buffer.from(n.toLowerCase(), 'utf8')])
  try {
    let cursor = '0'
    do {
      const [next, batch] = await client.scan(cursor, 'COUNT', 500)
      cursor = next
      keys.push(...batch)
    } while (cursor !== '0')
    for (const key of keys) {
      const ttl = await client.ttl(key)
      const durable = key.startsWith(STATE_PREFIX)
      if (durable ? ttl !== -1 : ttl < 0) problems.push(`${durable ? 'durable key with' : 'key without'} TTL (${ttl}): ${key}`)
      const keyBytes = Buffer.from(key, 'utf8')
      const type = await client.type(key)
      const value = type === 'string' ? await client.getBuffer(key) : await client.dumpBuffer(key)
      for (const p of patterns) {
        if (keyBytes.includes(p)) problems.push(`key contains "${p.toString()}": ${key}`)
        if (value?.includes(p) === true) problems.push(`value of ${key} contains "${p.toString()}"`)
      }
    }
  } finally {
    client.disconnect()
  }
  return { keys, problems }
}
