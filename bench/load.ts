/**
 * Load generators. wrk (wrk.ts) drives every timed single-request row; `cannon`
 * (autocannon) remains for fixed-count runs (each id exactly once), which wrk
 * cannot stop at; `runOps` drives an operation made of
 * several requests (a REST page with its 20 bodies, a streamed download) with
 * a fixed number of concurrent workers. Both report throughput and latency.
 */
import autocannon from 'autocannon'

export interface Measured {
  /** Completed operations that succeeded. */
  ok: number
  failed: number
  seconds: number
  rps: number
  /** Milliseconds. */
  p50: number
  p99: number
  /** Peak RSS of a server the scenario started itself (the ceiling), bytes. */
  serverPeakRss?: number
  /** What generated the load: wrk (wrk.ts), autocannon, or the bench's own worker loop. */
  generator?: 'wrk' | 'autocannon' | 'worker loop'
  /**
   * The generator's CPU over the run, in cores (1.0: one core saturated). wrk's from
   * /proc/<pid>/stat; autocannon and the worker loop run in the bench process, whose
   * whole CPU (process.cpuUsage) is counted.
   */
  generatorCpu?: number
}

/** CPU of this process, in cores, from `since` (process.cpuUsage()) over `wallMs`. */
function cpuSince (since: NodeJS.CpuUsage, wallMs: number): number {
  const d = process.cpuUsage(since)
  return (d.user + d.system) / 1000 / Math.max(wallMs, 1)
}

export interface CannonOptions {
  base: string
  paths: string[]
  connections: number
  /** Seconds; ignored when `amount` is set. */
  duration?: number
  /** Exactly this many requests (paths taken in order, rotating). */
  amount?: number
  headers?: Record<string, string>
  method?: 'GET' | 'POST'
  /** Request bodies, rotating with the paths (POST). */
  bodies?: string[]
}

export async function cannon (opts: CannonOptions): Promise<Measured> {
  let next = 0
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  let last = t0
  const run = autocannon({
    url: opts.base,
    connections: opts.connections,
    ...(opts.amount === undefined ? { duration: opts.duration ?? 5 } : { amount: opts.amount }),
    timeout: 30,
    headers: opts.headers ?? {},
    requests: [{
      method: opts.method ?? 'GET',
      setupRequest: (req) => {
        const i = next++
        const body = opts.bodies?.[i % opts.bodies.length]
        return { ...req, path: opts.paths[i % opts.paths.length]!, ...(body === undefined ? {} : { body }) }
      },
    }],
  })
  run.on('response', () => { last = performance.now() })
  const result = await run
  // result.duration (and the end of a fixed-count run) fall on whole seconds: timed here up to the last response.
  const seconds = opts.amount === undefined ? result.duration : (last - t0) / 1000
  const ok = result['2xx']
  return {
    ok,
    failed: result.non2xx + result.errors + result.timeouts,
    seconds,
    rps: ok / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    generator: 'autocannon',
    generatorCpu: cpuSince(cpu0, performance.now() - t0),
  }
}

function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

/**
 * `workers` loops calling `op` until `durationMs` passed or `amount` operations
 * were started. A rejected op counts as failed (the first error is printed).
 */
export async function runOps (opts: { workers: number, durationMs?: number, amount?: number, op: (i: number, worker: number) => Promise<void> }): Promise<Measured> {
  const latencies: number[] = []
  let started = 0
  let failed = 0
  let firstError: unknown
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  const deadline = t0 + (opts.durationMs ?? Infinity)
  const more = (): boolean => performance.now() < deadline && (opts.amount === undefined || started < opts.amount)
  await Promise.all(Array.from({ length: opts.workers }, async (_, worker) => {
    while (more()) {
      const i = started++
      const s = performance.now()
      try {
        await opts.op(i, worker)
        latencies.push(performance.now() - s)
      } catch (err) {
        failed++
        firstError ??= err
      }
    }
  }))
  const seconds = (performance.now() - t0) / 1000
  if (firstError !== undefined) console.error('[bench] first failure:', (firstError as Error).message)
  latencies.sort((a, b) => a - b)
  return {
    ok: latencies.length,
    failed,
    seconds,
    rps: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    generator: 'worker loop',
    generatorCpu: cpuSince(cpu0, seconds * 1000),
  }
}

/** GET and drain the body; throws on a non-2xx status. Returns the byte count. */
export async function drain (url: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(url, { headers })
  if (!res.ok || res.body === null) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`)
  let bytes = 0
  for await (const chunk of res.body) bytes += (chunk as Uint8Array).length
  return bytes
}
