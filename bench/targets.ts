/**
 * The targets, evaluated on one run's rows: ratios against the
 * ceiling and the protocol floor, absolute p99 / RSS / event-loop bounds.
 */
import type { Row, Target } from './report.ts'

type Rows = Record<string, Row | undefined>

export interface Runs {
  imap: Rows
  pop3: Rows
  memory: Rows
  gatewayPeak: number
}

const pct = (x: number): string => `${(x * 100).toFixed(0)} %`

/** Targets whose rows ran (BENCH_ONLY may leave some out). */
export function evaluate ({ imap, pop3, memory, gatewayPeak }: Runs): Target[] {
  const out: Target[] = []
  const { cached, ceiling, cold, floor, floorParse, warm, listRest, pageGql, pageRest } = imap
  if (cached !== undefined && ceiling !== undefined) {
    const r = cached.rps / ceiling.rps
    out.push({ what: 'cached GET vs bare-fastify ceiling (Redis cache), wrk', goal: '≥ 70 %', measured: `${pct(r)} (${cached.rps.toFixed(0)} / ${ceiling.rps.toFixed(0)} req/s)`, met: r >= 0.7 })
  }
  if (memory.cached !== undefined && ceiling !== undefined) {
    const r = memory.cached.rps / ceiling.rps
    out.push({ what: 'cached GET vs ceiling (in-process cache)', goal: '≥ 70 %', measured: `${pct(r)} (${memory.cached.rps.toFixed(0)} req/s)`, met: r >= 0.7 })
  }
  if (cached !== undefined) out.push({ what: 'cached GET p99 at 32 connections', goal: '< 10 ms', measured: `${cached.p99.toFixed(1)} ms`, met: cached.p99 < 10 })
  if (listRest !== undefined) out.push({ what: 'list page of 20, REST, 16 connections', goal: '≥ 600 pages/s', measured: `${listRest.rps.toFixed(0)} pages/s`, met: listRest.rps >= 600 })
  if (cold !== undefined && floor !== undefined) {
    const r = cold.rps / floor.rps
    out.push({ what: 'cold GET vs direct imapflow (3 connections)', goal: '≥ 60 %', measured: `${pct(r)} (${cold.rps.toFixed(0)} / ${floor.rps.toFixed(0)} msg/s)`, met: r >= 0.6 })
  }
  if (cold !== undefined && floorParse !== undefined) {
    const r = cold.rps / floorParse.rps
    out.push({ what: 'cold GET vs imapflow + the normaliser (3 connections)', goal: '(comparison)', measured: `${pct(r)} (${cold.rps.toFixed(0)} / ${floorParse.rps.toFixed(0)} msg/s)`, met: null })
  }
  if (warm !== undefined && cold !== undefined) {
    const r = warm.rps / cold.rps
    out.push({ what: 'warm vs cold read of the corpus (IMAP; caching target)', goal: '≥ 5× faster', measured: `${r.toFixed(1)}× (hits ${pct(warm.hitRatio ?? 0)})`, met: r >= 5 })
  }
  if (pop3.cached !== undefined && pop3.cold !== undefined) {
    const r = pop3.cached.rps / pop3.cold.rps
    out.push({ what: 'cached vs cold GET (POP3; caching target)', goal: '≥ 5× faster', measured: `${r.toFixed(1)}×`, met: r >= 5 })
  }
  out.push({ what: 'peak RSS of the gateway, whole bench', goal: '< 200 MB', measured: `${(gatewayPeak / 2 ** 20).toFixed(0)} MB`, met: gatewayPeak < 200 * 2 ** 20 })
  const large = [imap.largeParse, imap.largeRaw, imap.largeAttach, pop3.largeParse, pop3.largeRaw, pop3.largeAttach].filter(r => r !== undefined)
  if (large.length > 0) {
    const loop = Math.max(...large.map(r => r.loopP99 ?? 0))
    out.push({ what: 'event-loop delay p99 while large messages are parsed and streamed', goal: '< 50 ms', measured: `${loop.toFixed(1)} ms (worst large-message row)`, met: loop < 50 })
  }
  if (pageGql !== undefined && pageRest !== undefined) {
    const r = pageGql.rps / pageRest.rps
    out.push({ what: 'page of 20 with bodies: GraphQL vs REST list + 20 GETs', goal: '(comparison)', measured: `${r.toFixed(2)}× (${pageGql.p50.toFixed(1)} vs ${pageRest.p50.toFixed(1)} ms p50)`, met: null })
  }
  const saturated = [...Object.values(imap), ...Object.values(pop3), ...Object.values(memory)]
    .filter((r): r is Row => r?.generator === 'wrk' && (r.generatorCpu ?? 0) >= 0.9)
  out.push({ what: 'wrk rows whose generator was near saturation (≥ 0.9 cores)', goal: 'none', measured: saturated.length === 0 ? 'none' : saturated.map(r => r.name).join('; '), met: saturated.length === 0 })
  return out
}
