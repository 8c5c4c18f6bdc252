/**
 * Cold-read throughput of one gateway instance against three sharing one Redis
 * Cluster, in one run: `node --import tsx bench/instances.ts` (about 2 min).
 *
 * Harness Dovecot and a three-master Redis Cluster (test/env/), gateways as
 * `src/server.ts` processes through tsx (NODE_ENV=production, LOG_LEVEL=info,
 * IMAP_MAX_CONNECTIONS_PER_ACCOUNT=3, REDIS_URL=redis+cluster://…). Each phase
 * reads its own accounts' messages exactly once (cold: nothing cached), 8
 * accounts × 150 corpus messages, 24 requests in flight spread round-robin
 * over the phase's instances. Prints reads/s per phase and the 3:1 ratio.
 * Every process shares the machine's cores: on a 2-core machine three
 * instances cannot be three times one, and the ratio says how much of the
 * work the shared connection cap and Redis round trips leave parallel.
 */
import { startGatewayProcess, type GatewayProcess } from '../test/build/gateway-process.ts'
import { startDovecot } from '../test/env/dovecot.ts'
import { ensurePackages } from '../test/env/install.ts'
import { startRedisCluster } from '../test/env/redis-cluster.ts'
import { call } from '../test/e2e/http-call.ts'
import { corpusMessages } from './corpus.ts'

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 8)
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 150)
const IN_FLIGHT = 24

ensurePackages()
const [dovecot, cluster] = await Promise.all([startDovecot(), startRedisCluster()])
const gateways: GatewayProcess[] = []
try {
  const users = await Promise.all(Array.from({ length: 2 * ACCOUNTS }, async (_, i) => await dovecot.createUser(`bench-inst-${i}`)))
  await Promise.all(users.map(async (u) => await dovecot.deliverMany(u.username, corpusMessages(MESSAGES).map(raw => ({ raw })))))
  for (let i = 0; i < 3; i++) {
    gateways.push(await startGatewayProcess(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      REDIS_URL: cluster.url,
      MAIL_ALLOWED_HOSTS: '127.0.0.1',
      MAIL_TLS_CA_FILE: dovecot.info.caFile,
      IMAP_MAX_CONNECTIONS_PER_ACCOUNT: '3',
    }))
  }

  /** Ids of every INBOX message of the accounts, with the token to read each. */
  async function prepare (accounts: typeof users, port: number): Promise<Array<{ token: string, id: string }>> {
    const reads: Array<{ token: string, id: string }> = []
    for (const u of accounts) {
      const s = await call(port, 'POST', '/v1/sessions', { body: { protocol: 'imap', host: '127.0.0.1', port: dovecot.ports.imaps, security: 'tls', username: u.username, password: u.password } })
      const { token } = JSON.parse(s.body) as { token: string }
      const boxes = JSON.parse((await call(port, 'GET', '/v1/mailboxes', { token })).body) as { items: Array<{ id: string, path: string }> }
      const inbox = boxes.items.find(b => b.path === 'INBOX')!
      let cursor: string | null = null
      do {
        const page = JSON.parse((await call(port, 'GET', `/v1/mailboxes/${inbox.id}/messages?limit=100${cursor !== null ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token })).body) as { items: Array<{ id: string }>, nextCursor?: string | null }
        for (const m of page.items) reads.push({ token, id: m.id })
        cursor = page.nextCursor ?? null
      } while (cursor !== null)
    }
    // interleave accounts, as independent users would arrive
    return reads.sort((a, b) => a.id.localeCompare(b.id))
  }

  async function phase (name: string, ports: number[], accounts: typeof users): Promise<number> {
    const reads = await prepare(accounts, ports[0]!)
    let next = 0
    let failed = 0
    const failures = new Map<string, number>()
    const started = performance.now()
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      for (let i = next++; i < reads.length; i = next++) {
        const r = reads[i]!
        const res = await call(ports[i % ports.length]!, 'GET', `/v1/messages/${r.id}`, { token: r.token }).catch((err: Error) => ({ status: 0, body: err.message }))
        if (res.status !== 200) {
          failed++
          const why = `${res.status} ${res.body.slice(0, 120)}`
          failures.set(why, (failures.get(why) ?? 0) + 1)
        }
      }
    }))
    const seconds = (performance.now() - started) / 1000
    const rate = (reads.length - failed) / seconds
    console.log(`| ${name} | ${reads.length} | ${failed} | ${seconds.toFixed(1)} | ${rate.toFixed(0)} |`)
    for (const [why, n] of failures) console.log(`  failed ${n}×: ${why}`)
    return rate
  }

  console.log(`cold GET /v1/messages/{id}: ${ACCOUNTS} accounts × ${MESSAGES} messages per phase, ${IN_FLIGHT} in flight, IMAP_MAX_CONNECTIONS_PER_ACCOUNT=3 for the deployment, Redis Cluster (3 masters)\n`)
  console.log('| instances | reads | failed | seconds | reads/s |\n|---|---|---|---|---|')
  const one = await phase('1', [gateways[0]!.port], users.slice(0, ACCOUNTS))
  const three = await phase('3', gateways.map(g => g.port), users.slice(ACCOUNTS))
  console.log(`\nscaling ratio 3:1 = ${(three / one).toFixed(2)}`)
  console.log(`gateways still running: ${gateways.filter(g => g.child.exitCode === null && g.child.signalCode === null).length} of 3`)
  for (const g of gateways.filter(g => g.child.exitCode !== null || g.child.signalCode !== null)) console.log(`exit ${g.child.exitCode} ${g.child.signalCode}\n${g.output().slice(-4000)}`)
} catch (err) {
  console.log('bench failed:', err, gateways.map(g => `exit ${g.child.exitCode} ${g.child.signalCode}\n${g.output().slice(-1500)}`).join('\n'))
  process.exitCode = 1
} finally {
  for (const g of gateways) g.kill()
  await Promise.allSettled([dovecot.stop(), cluster.stop()])
}
