// startRedis(): a private redis-server that can be killed and restarted on the same port.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { canConnect } from './ports.ts'
import { startRedis } from './redis.ts'
import { testEnv } from './shared.ts'
import { Wire } from './wire.ts'

async function redisCommand (port: number, ...lines: string[]): Promise<string[]> {
  const wire = await Wire.open({ port })
  try {
    const replies: string[] = []
    for (const line of lines) replies.push(...await wire.command(line, (l) => !l.startsWith('$') || l === '$-1'))
    return replies
  } finally { wire.close() }
}

test('the shared Redis answers', async () => {
  const { redis } = await testEnv()
  assert.equal(redis.url, `redis://127.0.0.1:${redis.port}`)
  assert.deepEqual(await redisCommand(redis.port, 'PING'), ['+PONG'])
})

test('kill() takes Redis down, restart() brings an empty one back on the same port', async () => {
  const redis = await startRedis()
  try {
    assert.deepEqual(await redisCommand(redis.port, 'SET k v', 'GET k'), ['+OK', '$1', 'v'])
    await redis.kill()
    assert.equal(await canConnect(redis.port), false)
    await redis.restart()
    assert.deepEqual(await redisCommand(redis.port, 'GET k'), ['$-1'])
  } finally {
    await redis.stop()
  }
  assert.equal(await canConnect(redis.port), false)
})
