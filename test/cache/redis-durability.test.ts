/**
 * The start-up check of Redis for durable state, against a real redis-server:
 * eviction policy and persistence read with CONFIG, read from INFO when CONFIG
 * is refused (as on managed Redis), unknown when both are; one log line.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { Redis } from 'ioredis'
import { inspectRedis, verdict, watchDurability } from '../../src/cache/redis-durability.ts'
import { startRedis, waitFor } from './helpers.ts'
import type { TestRedis } from './helpers.ts'

let redis: TestRedis
let admin: Redis
before(async () => {
  redis = await startRedis()
  admin = new Redis(redis.url)
  // users like a managed Redis gives: CONFIG refused; CONFIG and INFO refused
  await admin.acl('SETUSER', 'noconfig', 'on', '>pw-noconfig', '~*', '&*', '+@all', '-config')
  await admin.acl('SETUSER', 'noinfo', 'on', '>pw-noinfo', '~*', '&*', '+@all', '-config', '-info')
})
after(async () => {
  admin.disconnect()
  await redis.stop()
})

async function inspectAs (user?: string): Promise<ReturnType<typeof verdict> & { d: Awaited<ReturnType<typeof inspectRedis>> }> {
  const client = new Redis(redis.url, user === undefined ? {} : { username: user, password: `pw-${user}` })
  try {
    const d = await inspectRedis(client)
    return { ...verdict(d), d }
  } finally {
    client.disconnect()
  }
}

test('no persistence (the harness Redis): a warning that a restart forgets revocations', async () => {
  await admin.config('SET', 'maxmemory-policy', 'noeviction')
  const v = await inspectAs()
  assert.deepEqual(v.d, { policy: 'noeviction', aof: false, snapshots: false, source: 'config' })
  assert.equal(v.level, 'warn')
  assert.match(v.message, /persistence is off/)
})

test('AOF with noeviction or a volatile-* policy: fit, said at info; allkeys-*: a warning naming the policy', async () => {
  await admin.config('SET', 'appendonly', 'yes')
  try {
    for (const policy of ['noeviction', 'volatile-lru', 'volatile-ttl']) {
      await admin.config('SET', 'maxmemory-policy', policy)
      const v = await inspectAs()
      assert.equal(v.level, 'info', `${policy}: ${v.message}`)
    }
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru')
    const v = await inspectAs()
    assert.equal(v.level, 'warn')
    assert.match(v.message, /allkeys-lru may evict revocations/)
  } finally {
    await admin.config('SET', 'appendonly', 'no')
    await admin.config('SET', 'maxmemory-policy', 'noeviction')
  }
})

test('CONFIG refused: the policy and AOF come from INFO; both refused: unknown, and said so', async () => {
  await admin.config('SET', 'maxmemory-policy', 'volatile-lfu')
  try {
    const fromInfo = await inspectAs('noconfig')
    assert.deepEqual(fromInfo.d, { policy: 'volatile-lfu', aof: false, snapshots: null, source: 'info' })
    assert.equal(fromInfo.level, 'warn')
    assert.match(fromInfo.message, /AOF is off/)
    const none = await inspectAs('noinfo')
    assert.deepEqual(none.d, { policy: null, aof: null, snapshots: null, source: 'none' })
    assert.equal(none.level, 'warn')
    assert.match(none.message, /maxmemory-policy is unknown/)
    assert.match(none.message, /persistence is unknown/)
  } finally {
    await admin.config('SET', 'maxmemory-policy', 'noeviction')
  }
})

test('watchDurability logs one line when the connection is ready', async () => {
  const lines: Array<{ level: string, msg: string }> = []
  const client = new Redis(redis.url, { lazyConnect: true })
  try {
    watchDurability(client, {
      info: (_o, msg) => { lines.push({ level: 'info', msg }) },
      warn: (_o, msg) => { lines.push({ level: 'warn', msg }) },
    })
    await client.connect()
    await waitFor(() => lines.length > 0, 5000, 'a durability line')
    assert.equal(lines.length, 1)
    assert.equal(lines[0]!.level, 'warn')
    assert.match(lines[0]!.msg, /redis may lose durable state/)
  } finally {
    client.disconnect()
  }
})
