/**
 * `npm run bench:events`: event latency at many subscribers. A throw-away
 * Dovecot (the test harness), the gateway in its own process (production
 * settings, src/ through tsx), EVENTS_ACCOUNTS accounts (default 20) and
 * EVENTS_SUBSCRIBERS subscribers (default 100) spread over them, alternately
 * SSE (`GET /v1/events`) and GraphQL (`mailboxEvents` over graphql-ws).
 * Each round, an independent raw IMAP client APPENDs one message to every
 * account's INBOX at once; a subscriber's latency is the time from the start
 * of its account's APPEND to its `message.created`. EVENTS_ROUNDS rounds
 * (default 20) after one uncounted warm-up round; prints p50/p95/p99 overall
 * and per face, and the gateway's peak RSS. Contract §8: p95 within 2 s.
 */
import { startDovecot } from '../test/env/dovecot.ts'
import { ensurePackages } from '../test/env/install.ts'
import { graphqlSubscriber, sseSubscriber, type EventJson, type Subscriber } from '../test/realtime/clients.ts'
import { productionNodeArgs } from './gateway.ts'
import { startNodeServer } from './procs.ts'

const ACCOUNTS = Number(process.env.EVENTS_ACCOUNTS ?? 20)
const SUBSCRIBERS = Number(process.env.EVENTS_SUBSCRIBERS ?? 100)
const ROUNDS = Number(process.env.EVENTS_ROUNDS ?? 20)
/** How long one round may wait for every subscriber (ms): a missing event fails the run. */
const ROUND_TIMEOUT_MS = 60_000

interface Sub { account: number, face: 'sse' | 'graphql', arrivals: Map<string, number>, handle: Subscriber | null }

function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)]!
}

function summary (name: string, values: number[]): string {
  const s = [...values].sort((a, b) => a - b)
  const f = (n: number): string => n.toFixed(0).padStart(6)
  return `| ${name.padEnd(10)} | ${String(s.length).padStart(6)} | ${f(percentile(s, 50))} | ${f(percentile(s, 95))} | ${f(percentile(s, 99))} | ${f(s[s.length - 1] ?? NaN)} |`
}

async function main (): Promise<void> {
  ensurePackages()
  const dovecot = await startDovecot()
  const gateway = await startNodeServer([...productionNodeArgs(), '--import', 'tsx', 'src/server.ts'], {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    GATEWAY_SECRET: 'bench-secret-0123456789abcdef-0123456789',
    MAIL_ALLOWED_HOSTS: '127.0.0.1',
    MAIL_TLS_CA_FILE: dovecot.caFile,
    LOGIN_RATE_PER_CLIENT: '0',
    LOGIN_RATE_PER_ACCOUNT: '0',
  })
  const base = gateway.url
  const wsUrl = base.replace('http:', 'ws:') + '/graphql'
  const subs: Sub[] = []
  try {
    const users = await Promise.all(Array.from({ length: ACCOUNTS }, async () => await dovecot.createUser('bench-events')))
    const tokens = await Promise.all(users.map(async (user) => {
      const res = await fetch(`${base}/v1/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ protocol: 'imap', host: '127.0.0.1', port: dovecot.ports.imaps, security: 'tls', username: user.username, password: user.password }),
      })
      if (res.status !== 201) throw new Error(`login: ${res.status} ${await res.text()}`)
      return (await res.json() as { token: string }).token
    }))
    // while the SSE face is not served, every subscriber is a GraphQL one
    const withSse = (await fetch(`${base}/v1/events`, { method: 'HEAD' })).status !== 404
    if (!withSse) console.error('[bench] GET /v1/events is not served: GraphQL subscribers only')
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const account = i % ACCOUNTS
      const sub: Sub = { account, face: withSse && Math.floor(i / ACCOUNTS) % 2 === 0 ? 'sse' : 'graphql', arrivals: new Map(), handle: null }
      const onEvent = (e: EventJson): void => {
        if (e.type !== 'message.created') return
        for (const id of e.messageIds ?? []) if (!sub.arrivals.has(id)) sub.arrivals.set(id, performance.now())
      }
      sub.handle = sub.face === 'sse'
        ? sseSubscriber(base, tokens[account]!, onEvent, { query: '?types=message.created' })
        : graphqlSubscriber(wsUrl, tokens[account]!, onEvent, { variables: { types: ['message.created'] } })
      subs.push(sub)
    }
    await Promise.all(subs.map(async s => await s.handle?.ready))
    console.error(`[bench] ${SUBSCRIBERS} subscribers on ${ACCOUNTS} accounts open`)

    const latencies: Record<'sse' | 'graphql', number[]> = { sse: [], graphql: [] }
    gateway.resetPeak()
    for (let round = 0; round <= ROUNDS; round++) {
      await Promise.all(users.map(async (user, account) => {
        const mine = subs.filter(s => s.account === account)
        const before = mine.map(s => s.arrivals.size)
        const raw = Buffer.from(`From: bench@example.com\r\nTo: ${user.username}@example.com\r\nSubject: round ${round}\r\n\r\nhello\r\n`)
        const t0 = performance.now()
        await dovecot.deliver(user.username, raw)
        // round 0 repeats its APPEND until every subscriber sees one: subscriptions are open and the
        // watcher has its starting state (a message older than that state is no change to it)
        let deadline = Date.now() + (round === 0 ? 3000 : ROUND_TIMEOUT_MS)
        let tries = 1
        while (mine.some((s, i) => s.arrivals.size <= before[i]!)) {
          if (Date.now() > deadline) {
            if (round > 0 || tries === 20) throw new Error(`round ${round}: account ${account} missed an event`)
            await dovecot.deliver(user.username, raw)
            tries++
            deadline = Date.now() + 3000
          }
          await new Promise(resolve => setTimeout(resolve, 5))
        }
        if (round === 0) return // warm-up: watchers started, sockets settled
        for (const s of mine) latencies[s.face].push([...s.arrivals.values()].at(-1)! - t0)
      }))
    }
    const rss = gateway.peakRss()
    console.log(`\nEvent latency, APPEND by a raw IMAP client → message.created at the subscriber (ms); ${SUBSCRIBERS} subscribers, ${ACCOUNTS} accounts, ${ROUNDS} rounds\n`)
    console.log('| face       | events |    p50 |    p95 |    p99 |    max |')
    console.log('|---|---:|---:|---:|---:|---:|')
    console.log(summary('SSE', latencies.sse))
    console.log(summary('GraphQL', latencies.graphql))
    console.log(summary('all', [...latencies.sse, ...latencies.graphql]))
    console.log(`\ngateway peak RSS during the rounds: ${(rss / 1048576).toFixed(0)} MB`)
  } finally {
    await Promise.allSettled(subs.map(async s => await s.handle?.close()))
    await gateway.stop()
    await dovecot.stop()
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
