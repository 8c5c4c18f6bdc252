/**
 * Webhook delivery throughput and latency with 3 instances sharing one Redis
 * (`node --import tsx bench/webhooks.ts [events] [webhooks]`): three webhook
 * runtimes (store, worker, fan-out, each with its own Redis connection) in
 * this process, a loopback receiver answering 200, and every event published
 * to all three instances' buses, as a shared bus delivers it. Tokens are not
 * under test: `authenticate` accepts the bench's token.
 *
 * Prints deliveries/s (all events × webhooks, first publish to last receipt)
 * and the delivery latency (publish → receipt) p50/p95/max.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { loadConfig } from '../src/config.ts'
import type { BusSubscription, EventBus, MailEvent } from '../src/mail/events.ts'
import type { Caller } from '../src/mail/service-types.ts'
import { createWebhooks, type WebhookRuntime } from '../src/webhooks/index.ts'
import { startRedis } from '../test/env/redis.ts'

const EVENTS = Number(process.argv[2] ?? 500)
const HOOKS = Number(process.argv[3] ?? 10)
const INSTANCES = 3

class Bus implements EventBus {
  readonly listeners = new Map<string, Set<(e: MailEvent) => void>>()
  async publish (e: MailEvent): Promise<void> { for (const l of this.listeners.get(e.accountId) ?? []) l(e) }
  subscribe (a: string, l: (e: MailEvent) => void): BusSubscription {
    const s = this.listeners.get(a) ?? new Set()
    s.add(l)
    this.listeners.set(a, s)
    return { close: () => { s.delete(l) } }
  }

  async replayAfter (): Promise<{ found: false }> { return { found: false } }
  async close (): Promise<void> {}
}

function caller (n: number): Caller {
  const accountId = `bench-account-${n}`
  return {
    tokenId: `t${n}`,
    expiresAt: Date.now() + 3_600_000,
    account: { id: accountId, protocol: 'imap', host: '127.0.0.1', port: 993, username: `u${n}`, capabilities: {} } as unknown as Caller['account'],
    ctx: { accountId } as unknown as Caller['ctx'],
  }
}

function pct (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)] ?? 0
}

async function main (): Promise<void> {
  const redis = await startRedis()
  const published = new Map<string, number>()
  const latencies: number[] = []
  let done: () => void = () => {}
  const finished = new Promise<void>(resolve => { done = resolve })
  const seen = new Set<string>()
  let duplicates = 0
  const receiver = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const key = `${req.url ?? ''} ${String(req.headers['webhook-id'])}`
      if (seen.has(key)) duplicates++
      seen.add(key)
      latencies.push(Date.now() - (published.get(String(req.headers['webhook-id'])) ?? Date.now()))
      res.writeHead(200).end()
    })
  })
  await new Promise<void>(resolve => receiver.listen(0, '127.0.0.1', resolve))
  const port = (receiver.address() as AddressInfo).port
  const config = loadConfig({ GATEWAY_SECRET: 'bench-webhooks-secret-0123', WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', WEBHOOK_ALLOW_HTTP: 'true' })
  const buses: Bus[] = []
  const runtimes: WebhookRuntime[] = []
  const accounts = Math.max(1, Math.ceil(HOOKS / 2))
  const callers = Array.from({ length: accounts }, (_, n) => caller(n))
  for (let i = 0; i < INSTANCES; i++) {
    const bus = new Bus()
    buses.push(bus)
    runtimes.push(createWebhooks({
      redisUrl: redis.url,
      secret: config.secret,
      settings: { ...config.webhooks, maxPerAccount: HOOKS },
      authenticate: async (token) => callers[Number(token)]!,
      bus,
      watching: null,
      logger: { warn: (o, m) => { console.error(m, o) }, info: () => {} },
      syncMs: 1000,
      pollMs: 50,
    }))
  }
  for (let h = 0; h < HOOKS; h++) {
    const n = h % accounts
    await runtimes[h % INSTANCES]!.api.create(callers[n]!, String(n), { url: `http://127.0.0.1:${port}/hook${h}` })
  }
  await Promise.all(runtimes.map(r => r.fanout.sync()))
  const start = Date.now()
  for (let e = 0; e < EVENTS; e++) {
    const c = callers[e % accounts]!
    const event: MailEvent = { id: `ev_bench_${e}`, type: 'message.created', accountId: c.account.id, mailboxId: 'inbox', state: `s${e}`, at: new Date().toISOString(), messageIds: [`m${e}`] }
    published.set(event.id, Date.now())
    await Promise.all(buses.map(b => b.publish(event)))
  }
  // each event reaches the webhooks of its account: 2 per account here
  const expected = EVENTS * (HOOKS / accounts)
  const check = setInterval(() => { if (seen.size >= expected) done() }, 50)
  await finished
  clearInterval(check)
  const seconds = (Date.now() - start) / 1000
  latencies.sort((a, b) => a - b)
  console.log(`| webhook deliveries, ${INSTANCES} instances, ${HOOKS} webhooks, ${EVENTS} events | ${seen.size} delivered in ${seconds.toFixed(1)} s = ${(seen.size / seconds).toFixed(0)}/s | latency p50 ${pct(latencies, 0.5)} ms, p95 ${pct(latencies, 0.95)} ms, max ${pct(latencies, 1)} ms | duplicates ${duplicates} |`)
  await Promise.all(runtimes.map(r => r.close()))
  receiver.closeAllConnections()
  receiver.close()
  await redis.stop()
}

main().catch((err: unknown) => { console.error(err); process.exit(1) })
