/**
 * `npm run bench:sse-memory`: what an idle `GET /v1/events` stream costs one
 * gateway instance in memory (target: under 40 KB per stream). A throw-away
 * Dovecot (the test harness), the gateway in its own process (production
 * settings, src/ through tsx, --expose-gc for the debug stats' full GC), and
 * SSE_MEMORY_ACCOUNTS accounts (default 10): a Dovecot login per stream would
 * measure logins, so each account's token carries many streams, with
 * EVENTS_SUBSCRIBERS_PER_TOKEN raised for the run. One stream per account is opened first, uncounted (it starts the
 * account's watcher); then SSE_MEMORY_STREAMS streams (default 1 000) are
 * opened and left idle. The gateway's RSS and live V8 heap (after a full GC)
 * are read before and after; the difference divided by the streams is printed
 * in KB per stream.
 */
import { sseSubscriber, type Subscriber } from '../test/realtime/clients.ts'
import { startBenchEnv } from './env.ts'
import { login, startGatewayProc, type GatewayProc } from './gateway.ts'

const ACCOUNTS = Number(process.env.SSE_MEMORY_ACCOUNTS ?? 10)
const STREAMS = Number(process.env.SSE_MEMORY_STREAMS ?? 1000)
/** Idle time before each reading, so allocations of opening have settled (ms). */
const SETTLE_MS = 3000

// the gateway process inherits these (procs.ts spawns `env VAR=… node …`)
const perToken = String(Math.ceil(STREAMS / ACCOUNTS) + 1)
process.env.EVENTS_SUBSCRIBERS_PER_TOKEN ??= perToken

interface Reading { rss: number, heapUsedMb: number, heapTotalMb: number }

async function reading (gateway: GatewayProc): Promise<Reading> {
  await new Promise(resolve => setTimeout(resolve, SETTLE_MS))
  const s = await gateway.stats(false, true)
  return { rss: s.rss, heapUsedMb: s.memory.heapUsed, heapTotalMb: s.memory.heapTotal }
}

async function openAll (base: string, tokens: string[], count: number, into: Subscriber[]): Promise<void> {
  // in batches: a thousand TLS-free loopback connects at once are fine, but keep the gateway's accept queue short
  for (let i = 0; i < count; i += 100) {
    const batch = Array.from({ length: Math.min(100, count - i) }, (_, j) => sseSubscriber(base, tokens[(i + j) % tokens.length]!, () => {}))
    into.push(...batch)
    let timer: NodeJS.Timeout | undefined
    const stuck = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`streams ${i}–${i + batch.length} not open within 60 s`)) }, 60_000) })
    try {
      await Promise.race([Promise.all(batch.map(async s => await s.ready)), stuck])
    } finally {
      clearTimeout(timer)
    }
  }
}

async function main (): Promise<void> {
  const env = await startBenchEnv({ imap: 0, pop3: 0 })
  const gateway = await startGatewayProc(env, { redis: false, tsx: true, nodeArgs: ['--expose-gc'] })
  const subs: Subscriber[] = []
  try {
    const users = [env.imapUser, ...await Promise.all(Array.from({ length: ACCOUNTS - 1 }, async () => await env.dovecot.createUser('bench-sse')))]
    const tokens = (await Promise.all(users.map(async u => await login(gateway.url, env, u, 'imap')))).map(s => s.token)
    await openAll(gateway.url, tokens, tokens.length, subs)
    const before = await reading(gateway)
    const t0 = performance.now()
    await openAll(gateway.url, tokens, STREAMS, subs)
    const openMs = performance.now() - t0
    const after = await reading(gateway)
    const kb = (bytes: number): string => (bytes / 1024 / STREAMS).toFixed(1)
    const mb = (n: number): string => (n / 1048576).toFixed(1)
    console.log(`\nIdle SSE streams on one gateway: ${STREAMS} streams over ${ACCOUNTS} accounts (opened in ${(openMs / 1000).toFixed(1)} s)\n`)
    console.log('| | before | after | per stream |')
    console.log('|---|---:|---:|---:|')
    console.log(`| RSS | ${mb(before.rss)} MB | ${mb(after.rss)} MB | ${kb(after.rss - before.rss)} KB |`)
    console.log(`| V8 heap used (after full GC) | ${before.heapUsedMb} MB | ${after.heapUsedMb} MB | ${kb((after.heapUsedMb - before.heapUsedMb) * 1048576)} KB |`)
    console.log(`| V8 heap total | ${before.heapTotalMb} MB | ${after.heapTotalMb} MB | ${kb((after.heapTotalMb - before.heapTotalMb) * 1048576)} KB |`)
    console.log(`\ntarget: < 40 KB per stream (RSS): ${(after.rss - before.rss) / 1024 / STREAMS < 40 ? 'met' : 'NOT met'}`)
  } finally {
    await Promise.allSettled(subs.map(async s => await s.close()))
    await gateway.stop()
    await env.stop()
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
