/**
 * RATE_LIMIT_PER_MINUTE across instances (src/cache/redis-rate-limit.ts)
 * against the real single Redis and the real cluster: instances share one
 * window per client, the client address is not in the key, and with Redis
 * gone each instance counts on its own (never unlimited, never failing).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { globalKey } from '../../src/cache/keys.ts'
import { redisRequestLimiter } from '../../src/cache/redis-rate-limit.ts'
import type { RedisStore } from '../../src/cache/redis-store.ts'
import { adminClient, bothRedisKinds, connectedRedisStore, startRedis } from './helpers.ts'

const secret = randomBytes(32)
const targets = bothRedisKinds()

for (const target of targets) {
  describe(`shared rate limit (${target.name})`, () => {
    test('two instances count one window per client; other clients are apart', async () => {
      const stores: RedisStore[] = [await connectedRedisStore(target.url()), await connectedRedisStore(target.url())]
      try {
        const [a, b] = stores.map(s => redisRequestLimiter(s, secret, 5))
        const client = `198.51.100.${Math.floor(Math.random() * 250)}-${randomBytes(4).toString('hex')}`
        const answers = [await a!.hit(client), await b!.hit(client), await a!.hit(client), await b!.hit(client), await a!.hit(client)]
        assert.deepEqual(answers, [0, 0, 0, 0, 0])
        const refused = await b!.hit(client)
        assert.ok(refused >= 1 && refused <= 60, `Retry-After ${refused}`)
        assert.ok(await a!.hit(client) > 0, 'refused on the other instance too')
        assert.equal(await a!.hit(`${client}-other`), 0)
        const admin = await adminClient(target.url())
        try {
          const key = globalKey(secret, 'rl', client)
          assert.ok(!key.includes('198.51.100'))
          assert.equal(Number(await admin.get(key)), 7)
          const ttl = await admin.ttl(key)
          assert.ok(ttl > 0 && ttl <= 60, `ttl ${ttl}`)
        } finally {
          admin.disconnect()
        }
      } finally {
        await Promise.all(stores.map(async (s) => { await s.close() }))
      }
    })
  })
}

test('Redis gone: each instance limits on its own', async () => {
  const own = await startRedis()
  const store = await connectedRedisStore(own.url)
  try {
    const limiter = redisRequestLimiter(store, secret, 2)
    await own.kill()
    assert.deepEqual([await limiter.hit('c'), await limiter.hit('c')], [0, 0])
    assert.ok(await limiter.hit('c') > 0, 'the in-memory window refuses the third')
  } finally {
    await store.close()
    await own.stop()
  }
})
