/**
 * The targets, evaluated on one run's rows: ratios against the
 * ceiling and the protocol floor, absolute p99 / RSS / event-loop bounds.
 */
import type { Row, Target } from './report.ts'

type Rows = Record<string, Row>

export interface Runs {
  imap: Rows
  pop3: Rows
  memory: Rows
  gatewayPeak: number
}

const pct = (x: number): string => `${(x * 100).toFixed(0)} %`

export function evaluate ({ imap, pop3, memory, gatewayPeak }: Runs): Target[] {
  const out: Target[] = []
  const cachedRatio = imap.cached!.rps / imap.ceiling!.rps
  out.push({ what: 'cached GET vs bare-fastify ceiling (Redis cache)', goal: '≥ 50 %', measured: `${pct(cachedRatio)} (${imap.cached!.rps.toFixed(0)} / ${imap.ceiling!.rps.toFixed(0)} req/s)`, met: cachedRatio >= 0.5 })
  if (memory.cached !== undefined) {
    const r = memory.cached.rps / imap.ceiling!.rps
    out.push({ what: 'cached GET vs ceiling (in-process cache)', goal: '≥ 50 %', measured: `${pct(r)} (${memory.cached.rps.toFixed(0)} req/s)`, met: r >= 0.5 })
  }
  out.push({ what: 'cached GET p99 at 32 connections', goal: '< 50 ms', measured: `${imap.cached!.p99.toFixed(1)} ms`, met: imap.cached!.p99 < 50 })
  const coldRatio = imap.cold!.rps / imap.floor!.rps
  out.push({ what: 'cold GET vs direct imapflow (3 connections)', goal: '≥ 60 %', measured: `${pct(coldRatio)} (${imap.cold!.rps.toFixed(0)} / ${imap.floor!.rps.toFixed(0)} msg/s)`, met: coldRatio >= 0.6 })
  if (imap.floorParse !== undefined) {
    const r = imap.cold!.rps / imap.floorParse.rps
    out.push({ what: 'cold GET vs imapflow + the normaliser (3 connections)', goal: '(comparison)', measured: `${pct(r)} (${imap.cold!.rps.toFixed(0)} / ${imap.floorParse.rps.toFixed(0)} msg/s)`, met: null })
  }
  const warm = imap.warm!.rps / imap.cold!.rps
  out.push({ what: 'warm vs cold read of the corpus (IMAP; caching target)', goal: '≥ 5× faster', measured: `${warm.toFixed(1)}× (hits ${pct(imap.warm!.hitRatio ?? 0)})`, met: warm >= 5 })
  const popWarm = pop3.cached!.rps / pop3.cold!.rps
  out.push({ what: 'cached vs cold GET (POP3; caching target)', goal: '≥ 5× faster', measured: `${popWarm.toFixed(1)}×`, met: popWarm >= 5 })
  out.push({ what: 'peak RSS of the gateway, whole bench', goal: '< 200 MB', measured: `${(gatewayPeak / 2 ** 20).toFixed(0)} MB`, met: gatewayPeak < 200 * 2 ** 20 })
  const large = [imap.largeParse, imap.largeRaw, imap.largeAttach, pop3.largeParse, pop3.largeRaw, pop3.largeAttach]
  const loop = Math.max(...large.map(r => r?.loopP99 ?? 0))
  out.push({ what: 'event-loop delay p99 while large messages are parsed and streamed', goal: '< 50 ms', measured: `${loop.toFixed(1)} ms (worst large-message row)`, met: loop < 50 })
  const page = imap.pageGql!.rps / imap.pageRest!.rps
  out.push({ what: 'page of 20 with bodies: GraphQL vs REST list + 20 GETs', goal: '(comparison)', measured: `${page.toFixed(2)}× (${imap.pageGql!.p50.toFixed(1)} vs ${imap.pageRest!.p50.toFixed(1)} ms p50)`, met: null })
  return out
}
