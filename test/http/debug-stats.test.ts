// The benchmark's opt-in stats route: event-loop delay and utilisation, memory,
// garbage-collection pauses, each since the last reset.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import { debugStatsEnabled, registerDebugStats, type DebugStats } from '../../src/debug-stats.ts'

test('debug stats are off unless asked for, and count GC pauses since the last reset', async (t) => {
  assert.equal(debugStatsEnabled({}), false)
  assert.equal(debugStatsEnabled({ BENCH_EVENT_LOOP_STATS: '1' }), true)
  const app = Fastify()
  t.after(async () => { await app.close() })
  registerDebugStats(app, () => ({ hits: 0, revalidated: 0, misses: 0 }))
  const stats = async (reset: boolean): Promise<DebugStats> => (await app.inject({ url: `/debug/stats?reset=${reset ? 1 : 0}` })).json()
  await stats(true)
  // young-generation garbage: enough to make V8 scavenge a few times
  let keep = 0
  for (let i = 0; i < 200; i++) keep += new Array(20_000).fill(i).length
  assert.ok(keep > 0)
  await new Promise(resolve => setTimeout(resolve, 50)) // GC entries are delivered asynchronously
  const after = await stats(true)
  assert.ok(after.gc.count > 0, JSON.stringify(after.gc))
  assert.ok(after.gc.maxMs > 0 && after.gc.maxMs <= after.gc.totalMs, JSON.stringify(after.gc))
  assert.ok(after.gc.maxMajorMs <= after.gc.maxMs)
  const reset = await stats(false)
  assert.ok(reset.gc.count < after.gc.count, 'a reset starts counting again')
})
