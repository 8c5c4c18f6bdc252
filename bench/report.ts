/**
 * The bench's output: one Markdown table (a row per scenario), the machine it
 * ran on, and the target ratios with pass/miss.
 */
import { readFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import type { Measured } from './load.ts'

export interface Row extends Measured {
  name: string
  connections: number
  /** Peak RSS of the measured server process during the scenario, bytes; null: no server of ours. */
  peakRss: number | null
  /** Event-loop delay p99 of the gateway during the scenario (ms); null for other processes. */
  loopP99: number | null
  /**
   * Share of the scenario the gateway's main thread was busy (event-loop
   * utilisation, counted against the time to the last response); null for other processes.
   */
  busy: number | null
  /** Share of message reads answered from the cache; null when none were made. */
  hitRatio: number | null
  note?: string
}

export interface Target {
  what: string
  goal: string
  measured: string
  /** null: a comparison line, not a target */
  met: boolean | null
}

export function machine (): string {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8')
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown'
  return `${cpus().length} × ${model.trim()}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux, Node ${process.version}`
}

const f = (n: number, digits = 0): string => n.toFixed(digits)
const mb = (bytes: number): string => f(bytes / 2 ** 20)

/** "wrk 0.41": the generator and its CPU in cores (1.00: one core saturated, the row then measures the generator). */
function generator (r: Row): string {
  if (r.generator === undefined) return '–'
  return r.generatorCpu === undefined ? r.generator : `${r.generator} ${f(r.generatorCpu, 2)}`
}

const median = (xs: number[]): number => {
  const s = xs.slice().sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const spread = (xs: number[], digits = 0): string =>
  `${f(median(xs), digits)} (${f(Math.min(...xs), digits)}–${f(Math.max(...xs), digits)})`

/** BENCH_ROUNDS: median (range) over the rounds of the cached GET, the ceiling and their ratio taken per round. */
export function roundsSummary (rounds: Array<{ cached?: Row, ceiling?: Row }>): string {
  const col = (pick: (r: { cached?: Row, ceiling?: Row }) => number | undefined): number[] =>
    rounds.map(pick).filter((x): x is number => x !== undefined)
  const lines = [`Rounds: ${rounds.length}, median (range).`, '', '| measure | median (range) |', '|---|---|']
  const cached = col(r => r.cached?.rps)
  const ceiling = col(r => r.ceiling?.rps)
  const ratio = col(r => r.cached !== undefined && r.ceiling !== undefined ? 100 * r.cached.rps / r.ceiling.rps : undefined)
  if (cached.length > 0) lines.push(`| cached GET req/s | ${spread(cached)} |`, `| cached GET p99 ms | ${spread(col(r => r.cached?.p99), 1)} |`)
  if (ceiling.length > 0) lines.push(`| ceiling req/s | ${spread(ceiling)} |`)
  if (ratio.length > 0) lines.push(`| cached / ceiling, same round, % | ${spread(ratio)} |`)
  return lines.join('\n')
}

export function table (rows: Row[]): string {
  const lines = [
    '| scenario | conns | req/s | p50 ms | p99 ms | load generator (CPU, cores) | peak RSS MB | loop p99 ms | loop busy | cache hits | notes |',
    '|---|--:|--:|--:|--:|---|--:|--:|--:|--:|---|',
  ]
  for (const r of rows) {
    const failed = r.failed > 0 ? ` **${r.failed} failed**` : ''
    lines.push(`| ${r.name} | ${r.connections} | ${f(r.rps, r.rps < 100 ? 1 : 0)} | ${f(r.p50, 1)} | ${f(r.p99, 1)} | ${generator(r)} | ${r.peakRss === null ? '–' : mb(r.peakRss)} | ` +
      `${r.loopP99 === null ? '–' : f(r.loopP99, 1)} | ${r.busy === null ? '–' : `${f(r.busy * 100)} %`} | ${r.hitRatio === null ? '–' : `${f(r.hitRatio * 100)} %`} | ` +
      `${r.ok} ok in ${f(r.seconds, 1)} s${failed}${r.note === undefined ? '' : `; ${r.note}`} |`)
  }
  return lines.join('\n')
}

export function targets (list: Target[]): string {
  const lines = ['| target | goal | measured | |', '|---|---|---|---|']
  for (const t of list) lines.push(`| ${t.what} | ${t.goal} | ${t.measured} | ${t.met === null ? '–' : t.met ? 'met' : '**missed**'} |`)
  return lines.join('\n')
}
