/**
 * `node --import tsx bench/parse-ab.ts`: the cold-read rows with MIME parsing on
 * the main thread (PARSE_WORKERS=0) and on a worker (PARSE_WORKERS=1), in
 * BENCH_ROUNDS rounds (default 5), the two variants in alternating order within
 * each round, plus the "IMAP floor + normaliser" row once per round, so each
 * round's ratios compare runs made under the same machine load. Each variant
 * runs on a fresh gateway process (dist/, production flags) after the shared
 * Redis is emptied: its reads are cold. Prints one line per row and run, then
 * the medians and ranges.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { Redis } from 'ioredis'
import { startBenchEnv, type BenchEnv } from './env.ts'
import { imapFloor } from './floor.ts'
import { listAll, login, mailboxId, startGatewayProc } from './gateway.ts'
import * as s from './scenarios.ts'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const IMAP_MESSAGES = 1200
const WARMUP_MESSAGES = 400
const POOL = 3
const VARIANTS = [{ name: 'inline', workers: '0' }, { name: 'workers', workers: '1' }]

interface Sample { round: number, row: string, variant: string, rps: number, p99: number, loopP99: number | null, busy: number | null, peakRssMb: number | null }
const samples: Sample[] = []

function record (x: Sample): void {
  samples.push(x)
  console.error(`[ab] round ${x.round} ${x.variant.padEnd(7)} ${x.row.padEnd(10)} ${x.rps.toFixed(1)} req/s, p99 ${x.p99.toFixed(0)} ms, loop p99 ${x.loopP99 ?? '-'} ms, busy ${x.busy ?? '-'}, peak RSS ${x.peakRssMb ?? '-'} MB`)
}

async function gatewayRows (env: BenchEnv, round: number, variant: { name: string, workers: string }): Promise<void> {
  const redis = new Redis(env.redis.url)
  await redis.flushall()
  redis.disconnect()
  const gw = await startGatewayProc(env, { redis: true, tsx: false, env: { PARSE_WORKERS: variant.workers } })
  try {
    const session = await login(gw.url, env, env.imapUser, 'imap')
    const inbox = await mailboxId(gw.url, session, 'INBOX')
    const ids = (await listAll(gw.url, session, inbox)).filter(i => i.subject?.startsWith('Bench:') !== true).map(i => i.id).reverse()
    const large = await listAll(gw.url, session, await mailboxId(gw.url, session, 'Large'))
    const largeIds = ['Bench: 1 MB', 'Bench: 8 MB'].map(p => large.find(i => i.subject?.startsWith(p) === true)!.id)
    const warmup = (await listAll(gw.url, session, await mailboxId(gw.url, session, 'Warmup'))).map(i => i.id)
    const c: s.Ctx = { base: gw.url, session, inbox, ids, rawId: '', attachmentId: '', attachmentUrl: '', seconds: 6 }
    await s.readEach(c, warmup, 8)
    const row = async (name: string, work: () => Promise<{ rps: number, p99: number, failed: number }>): Promise<void> => {
      gw.resetPeak()
      await gw.stats(true)
      const m = await work()
      const after = await gw.stats()
      if (m.failed > 0) console.error(`[ab] ${name}: ${m.failed} failed`)
      record({ round, row: name, variant: variant.name, rps: m.rps, p99: m.p99, loopP99: after.eventLoop.p99, busy: after.eventLoop.busy, peakRssMb: Math.round(gw.peakRss() / 1048576) })
    }
    await row('cold GET', () => s.readEach(c, ids, 8))
    await row('large', () => s.largeParse(c, largeIds))
  } finally {
    await gw.stop()
  }
}

function summary (): string {
  const lines: string[] = []
  const keys = [...new Set(samples.map(x => `${x.row}|${x.variant}`))]
  const med = (xs: number[]): number => { const v = xs.slice().sort((a, b) => a - b); const m = Math.floor(v.length / 2); return v.length % 2 === 1 ? v[m]! : (v[m - 1]! + v[m]!) / 2 }
  const fmt = (xs: number[], d = 1): string => `${med(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)})`
  for (const k of keys) {
    const [row, variant] = k.split('|') as [string, string]
    const xs = samples.filter(x => x.row === row && x.variant === variant)
    const loop = xs.map(x => x.loopP99).filter((x): x is number => x !== null)
    const busy = xs.map(x => x.busy).filter((x): x is number => x !== null)
    const rss = xs.map(x => x.peakRssMb).filter((x): x is number => x !== null)
    lines.push(`| ${row} | ${variant} | ${fmt(xs.map(x => x.rps))} | ${fmt(xs.map(x => x.p99), 0)} | ${loop.length > 0 ? fmt(loop, 0) : '–'} | ${busy.length > 0 ? fmt(busy, 2) : '–'} | ${rss.length > 0 ? fmt(rss, 0) : '–'} |`)
  }
  // same-round ratios of cold GET to the floor + normaliser row
  for (const v of VARIANTS) {
    const ratios = [...new Set(samples.map(x => x.round))].map(r => {
      const cold = samples.find(x => x.round === r && x.row === 'cold GET' && x.variant === v.name)
      const floor = samples.find(x => x.round === r && x.row === 'floor+norm')
      return cold !== undefined && floor !== undefined ? 100 * cold.rps / floor.rps : null
    }).filter((x): x is number => x !== null)
    if (ratios.length > 0) lines.push(`cold GET ${v.name} / floor + normaliser, same round: ${fmt(ratios, 0)} %`)
  }
  return ['| row | variant | req/s median (range) | p99 ms | loop p99 ms | loop busy | peak RSS MB |', '|---|---|---|---|---|---|---|', ...lines].join('\n')
}

async function main (): Promise<void> {
  execFileSync('node_modules/.bin/tsc', ['-p', 'tsconfig.build.json'], { stdio: 'inherit' })
  const env = await startBenchEnv({ imap: IMAP_MESSAGES, pop3: 1, warmup: WARMUP_MESSAGES })
  try {
    const target = { port: env.dovecot.ports.imaps, ca: readFileSync(env.dovecot.caFile), user: env.imapUser }
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? VARIANTS : VARIANTS.slice().reverse()
      for (const v of order) await gatewayRows(env, round, v)
      await imapFloor(target, env.inboxUids.slice(0, WARMUP_MESSAGES), POOL, { parse: true })
      const m = await imapFloor(target, env.inboxUids, POOL, { parse: true })
      record({ round, row: 'floor+norm', variant: '-', rps: m.rps, p99: m.p99, loopP99: null, busy: null, peakRssMb: null })
    }
  } finally {
    await env.stop()
  }
  console.log(summary())
}

await main()
