/**
 * `npm run bench`: Dovecot + Redis (test harness), a seeded corpus, the gateway
 * in its own process with production settings, and every scenario of
 * bench/README.md, printed as one Markdown table (also written to
 * bench/results.md). Environment: BENCH_SECONDS (per timed scenario, default
 * 6), BENCH_TSX=1 (run src/ through tsx instead of building dist/),
 * BENCH_MEMORY=0 (skip the in-process cache run), BENCH_GATEWAY_NODE_ARGS (extra node
 * flags for the gateway after config.nodeArgs, e.g. "--max-semi-space-size=16"), BENCH_LIVE_HEAP=1 (diagnostics: the
 * gateway's live heap after each row, through a full GC; its peak RSS figures then read low).
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import type { Message } from '../src/mail/types.ts'
import { ATTACHMENT_BYTES } from './corpus.ts'
import { startBenchEnv, type BenchEnv, type BenchUser } from './env.ts'
import { imapFloor } from './floor.ts'
import { appendLarge, appendSmall } from './appends.ts'
import { getJson, listAll, login, mailboxId, productionNodeArgs, startGatewayProc, type GatewayProc, type Session } from './gateway.ts'
import type { Measured } from './load.ts'
import { machine, roundsSummary, table, targets, type Row } from './report.ts'
import * as s from './scenarios.ts'
import { evaluate } from './targets.ts'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6)
/** BENCH_ONLY=cached,ceiling,…: only these rows (keys of imapReads, plus "pop3" and "memory"); unset: all. */
const ONLY = process.env.BENCH_ONLY?.split(',').map(k => k.trim()).filter(Boolean) ?? null
const want = (key: string): boolean => ONLY === null || ONLY.includes(key)
/** BENCH_ROUNDS=N: the cached GET and ceiling rows N times, alternating (A/B runs; ratios per round). */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 1))
const rounds: Array<{ cached?: Row, ceiling?: Row }> = []
const TSX = process.env.BENCH_TSX === '1'
/** Diagnostics: --expose-gc, and the live heap after each row (a full GC between rows: peaks then read low). */
const LIVE_HEAP = process.env.BENCH_LIVE_HEAP === '1'
const IMAP_MESSAGES = 1200
/** Cold reads of another mailbox before the cold row, uncounted: the gateway's JIT warm-up (see README, cold row). */
const WARMUP_MESSAGES = 400
const POP3_MESSAGES = 400
/** IMAP_MAX_CONNECTIONS_PER_ACCOUNT's default: the gateway's warm connections per account. */
const POOL = 3

export type Rows = Record<string, Row | undefined>
const all: Row[] = []
let gatewayPeak = 0

/** Runs one scenario with the gateway's peak RSS and loop-delay histogram reset, and records its row. */
async function measure (gw: GatewayProc, name: string, connections: number, work: () => Promise<Measured>,
  opts: { note?: string, inProcess?: boolean } = {}): Promise<Row> {
  gatewayPeak = Math.max(gatewayPeak, gw.peakRss())
  gw.resetPeak()
  const before = await gw.stats(true)
  const t0 = performance.now()
  const m = await work()
  const wall = (performance.now() - t0) / 1000
  const after = await gw.stats()
  gatewayPeak = Math.max(gatewayPeak, gw.peakRss())
  const hits = after.reader.hits - before.reader.hits
  const revalidated = after.reader.revalidated - before.reader.revalidated
  const reads = hits + revalidated + after.reader.misses - before.reader.misses
  const ours = m.serverPeakRss === undefined && opts.inProcess !== true
  const notes = [opts.note, ours && revalidated > 0 ? `${revalidated} revalidated` : undefined].filter(n => n !== undefined)
  const row: Row = {
    ...m,
    name,
    connections,
    peakRss: m.serverPeakRss ?? (ours ? gw.peakRss() : null),
    loopP99: ours ? after.eventLoop.p99 : null,
    // a fixed-count autocannon run ends on its next whole second: the idle tail is not the scenario's
    busy: ours ? Math.min(1, after.eventLoop.busy * wall / Math.max(m.seconds, 1e-3)) : null,
    hitRatio: ours && reads > 0 ? hits / reads : null,
    ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
  }
  all.push(row)
  const mem = after.memory
  const gateway = `; gateway after: rss ${Math.round(after.rss / 1048576)} MB, heap ${mem.heapUsed}/${mem.heapTotal} MB, external ${mem.external} MB (buffers ${mem.arrayBuffers}); ` +
    `loop max ${after.eventLoop.max} ms, GC ${after.gc.count}× ${after.gc.totalMs} ms, longest ${after.gc.maxMs} ms (full ${after.gc.maxMajorMs} ms)`
  console.error(`[bench] ${name}: ${m.rps.toFixed(1)} req/s, p50 ${m.p50.toFixed(1)} ms, p99 ${m.p99.toFixed(1)} ms, ${m.failed} failed${ours ? gateway : ''}`)
  if (ours && LIVE_HEAP) {
    const live = (await gw.stats(false, true)).memory
    console.error(`[bench]   live after a full GC: heap ${live.heapUsed}/${live.heapTotal} MB, external ${live.external} MB (buffers ${live.arrayBuffers})`)
  }
  return row
}

/**
 * Fills the cache with `ids` and then drives the cached GET once, uncounted, for
 * a few seconds: both cached rows then measure a JIT-warm gateway (the in-process
 * one is a fresh process, which read 20–35 % slower in its first seconds).
 */
async function warmCached (c: s.Ctx, ids: string[]): Promise<void> {
  await s.readEach(c, ids, 8)
  await s.readRotating({ ...c, seconds: Math.min(3, c.seconds) }, ids, 32)
}

async function contextFor (gw: GatewayProc, env: BenchEnv, user: BenchUser, protocol: 'imap' | 'pop3',
  beforeListing?: (session: Session, inbox: string) => Promise<unknown>): Promise<s.Ctx & { largeIds: string[] }> {
  const session = await login(gw.url, env, user, protocol)
  const inbox = await mailboxId(gw.url, session, 'INBOX')
  await beforeListing?.(session, inbox)
  const items = await listAll(gw.url, session, inbox)
  const largeItems = protocol === 'imap' ? await listAll(gw.url, session, await mailboxId(gw.url, session, 'Large')) : items
  const big = (prefix: string): string => largeItems.find(i => i.subject?.startsWith(prefix) === true)!.id
  return {
    base: gw.url,
    session,
    inbox,
    ids: items.filter(i => i.subject?.startsWith('Bench:') !== true).map(i => i.id),
    rawId: big('Bench: 1 MB'),
    attachmentId: big('Bench: 8 MB'),
    attachmentUrl: '',
    largeIds: [big('Bench: 1 MB'), big('Bench: 8 MB')],
    seconds: SECONDS,
  }
}

/** The large messages' first (cold) GET, then their downloads. */
async function largeReads (gw: GatewayProc, c: s.Ctx & { largeIds: string[] }, label: string, downloads: number): Promise<Rows> {
  const r: Rows = {}
  r.parse = await measure(gw, `${label} cold GET of the 1 MB and the 8 MiB message (parse)`, 2, () => s.largeParse(c, c.largeIds))
  c.attachmentUrl = (await getJson<Message>(c.base, `/v1/messages/${c.attachmentId}`, c.session)).attachments[0]!.url
  r.raw = await measure(gw, `${label} raw download, 1 MB message`, 8, () => s.rawDownload(c, 8))
  r.attach = await measure(gw, `${label} 8 MiB attachment, 10 concurrent downloads`, 10, () => s.attachmentDownloads(c, 10, downloads, ATTACHMENT_BYTES))
  return r
}

async function imapReads (gw: GatewayProc, env: BenchEnv): Promise<Rows> {
  const r: Rows = {}
  // before anything lists the mailbox: the list rows further down read pages listed before
  const c = await contextFor(gw, env, env.imapUser, 'imap', async (session, inbox) => {
    if (!want('listFirst')) return
    r.listFirst = await measure(gw, `IMAP list, first listing: each page of 20 once, in order (${IMAP_MESSAGES / 20} pages)`, 1,
      () => s.listEveryPage(gw.url, session, inbox, 20, IMAP_MESSAGES / 20))
  })
  const oldestFirst = c.ids.slice().reverse()
  const rotating = c.ids.slice(0, 100)
  const floorTarget = { port: env.dovecot.ports.imaps, ca: readFileSync(env.dovecot.caFile), user: env.imapUser }
  // Each cold row first runs its own code path uncounted, as the cached row does: a
  // gateway that has just started spends about a quarter of its CPU compiling (JIT).
  const warmed = `after ${WARMUP_MESSAGES} uncounted`
  if (want('cold')) {
    const warmupIds = (await listAll(gw.url, c.session, await mailboxId(gw.url, c.session, 'Warmup'))).map(i => i.id)
    await s.readEach(c, warmupIds, 8)
    r.cold = await measure(gw, `IMAP cold GET /v1/messages/{id}, each of ${oldestFirst.length} corpus messages once`, 8, () => s.readEach(c, oldestFirst, 8), { note: `${POOL} IMAP connections behind; ${warmed} cold reads of another mailbox` })
  }
  const floorWarmup = env.inboxUids.slice(0, WARMUP_MESSAGES)
  if (want('floor')) {
    await imapFloor(floorTarget, floorWarmup, POOL)
    r.floor = await measure(gw, 'IMAP protocol floor: the same FETCHes, imapflow, no gateway', POOL, () => imapFloor(floorTarget, env.inboxUids, POOL), { inProcess: true, note: `warm TLS connections, INBOX selected; ${warmed} fetches` })
  }
  if (want('floorParse')) {
    await imapFloor(floorTarget, floorWarmup, POOL, { parse: true })
    r.floorParse = await measure(gw, 'IMAP floor + normaliser: the same FETCHes, then parse and JSON, no gateway', POOL, () => imapFloor(floorTarget, env.inboxUids, POOL, { parse: true }), { inProcess: true, note: `what a direct client needing the same fields does; ${warmed} reads` })
  }
  if (want('warm')) r.warm = await measure(gw, 'IMAP warm GET, the same corpus again', 8, () => s.readEach(c, oldestFirst, 8))
  if (want('cached') || want('ceiling')) {
    await warmCached(c, rotating)
    for (let i = 1; i <= ROUNDS; i++) {
      const round: { cached?: Row, ceiling?: Row } = {}
      const tag = ROUNDS > 1 ? ` (round ${i})` : ''
      if (want('cached')) round.cached = await measure(gw, `IMAP cached GET /v1/messages/{id}, 100 ids rotating${tag}`, 32, () => s.readRotating(c, rotating, 32))
      if (want('ceiling')) round.ceiling = await measure(gw, `ceiling: bare fastify, the same JSON bytes${tag}`, 32, () => s.ceiling(c, rotating, 32))
      rounds.push(round)
    }
    r.cached = rounds[0]?.cached
    r.ceiling = rounds[0]?.ceiling
  }
  if (want('listRest')) r.listRest = await measure(gw, 'IMAP list page (limit=20), REST', 16, () => s.listRest(c, 16))
  if (want('listGql')) r.listGql = await measure(gw, 'IMAP list page (first: 20), GraphQL', 16, () => s.listGraphql(c, 16))
  if (want('pageGql')) r.pageGql = await measure(gw, 'IMAP page of 20 with bodies, GraphQL (1 query)', 4, () => s.pageWithBodiesGraphql(c, 4))
  if (want('pageRest')) r.pageRest = await measure(gw, 'IMAP page of 20 with bodies, REST (list + 20 GETs)', 4, () => s.pageWithBodiesRest(c, 4))
  if (want('kwOne')) r.kwOne = await measure(gw, 'IMAP keyword update, one message per PATCH', 4, () => s.keywordUpdates(c, rotating, 4))
  if (want('kwBatch')) r.kwBatch = await measure(gw, 'IMAP keyword update, batch of 100 (one UID STORE)', 2, () => s.keywordBatches(c, rotating, 2))
  const drafts = await mailboxId(gw.url, c.session, 'Drafts')
  if (want('append')) r.append = await measure(gw, 'IMAP APPEND of a 1 MB message, 40 in all', 4, () => appendSmall(gw.url, c.session, drafts, 4, 40), { note: 'streamed into the IMAP literal' })
  if (want('appendLarge')) r.appendLarge = await measure(gw, 'IMAP APPEND, 10 concurrent 20 MB uploads', 10, () => appendLarge(gw.url, c.session, drafts, 10), { note: 'peak RSS: nothing held whole' })
  if (!want('large')) return r
  return { ...r, ...prefixed('large', await largeReads(gw, c, 'IMAP', 30)) }
}

async function pop3Reads (gw: GatewayProc, env: BenchEnv): Promise<Rows> {
  const c = await contextFor(gw, env, env.pop3User, 'pop3')
  const r: Rows = {}
  r.cold = await measure(gw, `POP3 cold GET, each of ${c.ids.length} corpus messages once`, 8, () => s.readEach(c, c.ids.slice().reverse(), 8), { note: 'one POP3 session per maildrop' })
  const rotating = c.ids.slice(0, 100)
  r.cached = await measure(gw, 'POP3 cached GET, 100 ids rotating', 32, () => s.readRotating(c, rotating, 32))
  r.listRest = await measure(gw, 'POP3 list page (limit=20), REST', 16, () => s.listRest(c, 16))
  r.listGql = await measure(gw, 'POP3 list page (first: 20), GraphQL', 16, () => s.listGraphql(c, 16))
  return { ...r, ...prefixed('large', await largeReads(gw, c, 'POP3', 20)) }
}

async function memoryCacheReads (env: BenchEnv): Promise<Rows> {
  const gw = await startGatewayProc(env, { redis: false, tsx: TSX, nodeArgs: LIVE_HEAP ? ['--expose-gc'] : [] })
  try {
    const c = await contextFor(gw, env, env.imapUser, 'imap')
    const rotating = c.ids.slice(0, 100)
    await warmCached(c, rotating)
    return { cached: await measure(gw, 'IMAP cached GET, 100 ids rotating, in-process cache (no Redis)', 32, () => s.readRotating(c, rotating, 32)) }
  } finally {
    await gw.stop()
  }
}

function prefixed (prefix: string, rows: Rows): Rows {
  return Object.fromEntries(Object.entries(rows).map(([k, v]) => [prefix + k[0]!.toUpperCase() + k.slice(1), v]))
}

async function main (): Promise<void> {
  const t0 = Date.now()
  if (!TSX) execFileSync('node_modules/.bin/tsc', ['-p', 'tsconfig.build.json'], { stdio: 'inherit' })
  const env = await startBenchEnv({ imap: IMAP_MESSAGES, pop3: POP3_MESSAGES, warmup: WARMUP_MESSAGES })
  console.error(`[bench] seeded ${IMAP_MESSAGES} (+ ${WARMUP_MESSAGES} warm-up) + ${POP3_MESSAGES} messages and the large ones in ${((Date.now() - t0) / 1000).toFixed(0)} s`)
  try {
    const gw = await startGatewayProc(env, { redis: true, tsx: TSX, nodeArgs: LIVE_HEAP ? ['--expose-gc'] : [] })
    let imap: Rows, pop3: Rows
    try {
      imap = await imapReads(gw, env)
      pop3 = want('pop3') ? await pop3Reads(gw, env) : {}
    } finally {
      await gw.stop()
    }
    const memory = process.env.BENCH_MEMORY === '0' || !want('memory') ? {} : await memoryCacheReads(env)
    const out = [
      `Machine: ${machine()}. Gateway: ${TSX ? 'src/ via tsx' : 'dist/ (tsc)'} with ${[...productionNodeArgs(), process.env.BENCH_GATEWAY_NODE_ARGS ?? ''].join(' ').trim()}, NODE_ENV=production, LOG_LEVEL=warn, Redis cache` +
        ` (last row: in-process cache), ${SECONDS} s per timed scenario; run ${new Date().toISOString()}.`,
      '',
      table(all),
      '',
      targets(evaluate({ imap, pop3, memory, gatewayPeak })),
      '',
      ...(rounds.length > 1 ? [roundsSummary(rounds), ''] : []),
    ].join('\n')
    writeFileSync(new URL('./results.md', import.meta.url), out)
    console.log(out)
    console.error(`[bench] done in ${((Date.now() - t0) / 1000).toFixed(0)} s`)
  } finally {
    await env.stop()
  }
}

await main()
