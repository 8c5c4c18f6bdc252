/**
 * Opt-in process statistics for the benchmark (bench/): event-loop delay
 * (perf_hooks.monitorEventLoopDelay) and the message reader's cache outcomes,
 * at `GET /debug/stats` (`?reset=1` clears the delay histogram after reading).
 * Registered only when BENCH_EVENT_LOOP_STATS=1: off by default, never in the
 * OpenAPI document, no auth (bind the gateway to loopback when enabling it).
 * The event-loop utilisation (`busy`) tells a CPU-bound main thread from one
 * that waits on the network. `?gc=1` runs a full GC first when node was started with --expose-gc.
 */
import { constants, monitorEventLoopDelay, performance, PerformanceObserver, type EventLoopUtilization } from 'node:perf_hooks'
import type { FastifyInstance } from 'fastify'
import type { ReaderStats } from './mail/message-reader.ts'

export const DEBUG_STATS_ENV = 'BENCH_EVENT_LOOP_STATS'

export interface DebugStats {
  /**
   * Milliseconds, since start or the last reset; `busy`: the share of that time
   * the main thread was running JavaScript or native code rather than waiting (ELU, 0–1).
   */
  eventLoop: { p50: number, p99: number, max: number, samples: number, busy: number }
  reader: ReaderStats
  rss: number
  /** process.memoryUsage() in MB: where the resident memory is (V8 heap, Buffers). */
  memory: { heapTotal: number, heapUsed: number, external: number, arrayBuffers: number }
  /**
   * Garbage-collection pauses since start or the last reset (ms): how many, their sum,
   * the longest, and the longest full (mark-compact) one. Tells a GC stall from a
   * long piece of JavaScript when the event-loop delay jumps.
   */
  gc: { count: number, totalMs: number, maxMs: number, maxMajorMs: number }
}

function megabytes (m: NodeJS.MemoryUsage): DebugStats['memory'] {
  const mb = (n: number): number => Math.round(n / 1048576)
  return { heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) }
}

function round (n: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}

export function debugStatsEnabled (env: NodeJS.ProcessEnv = process.env): boolean {
  return env[DEBUG_STATS_ENV] === '1'
}

export function registerDebugStats (app: FastifyInstance, readerStats: () => ReaderStats): void {
  const histogram = monitorEventLoopDelay({ resolution: 10 })
  histogram.enable()
  app.addHook('onClose', async () => { histogram.disable() })
  const ms = (ns: number): number => round(ns / 1e6, 2)
  let since: EventLoopUtilization = performance.eventLoopUtilization()
  const gcs = { count: 0, totalMs: 0, maxMs: 0, maxMajorMs: 0 }
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcs.count++
      gcs.totalMs += entry.duration
      gcs.maxMs = Math.max(gcs.maxMs, entry.duration)
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcs.maxMajorMs = Math.max(gcs.maxMajorMs, entry.duration)
    }
  })
  observer.observe({ entryTypes: ['gc'] })
  app.addHook('onClose', async () => { observer.disconnect() })

  app.get<{ Querystring: { reset?: string, gc?: string } }>('/debug/stats', async (request, reply) => {
    // `?gc=1` with node --expose-gc: a full collection first, so `memory` shows what is live
    const gc = (globalThis as { gc?: () => void }).gc
    if (request.query.gc === '1' && gc !== undefined) gc()
    const stats: DebugStats = {
      eventLoop: {
        p50: ms(histogram.percentile(50)),
        p99: ms(histogram.percentile(99)),
        max: ms(histogram.max),
        samples: histogram.count,
        busy: round(performance.eventLoopUtilization(since).utilization, 3),
      },
      reader: readerStats(),
      rss: process.memoryUsage.rss(),
      memory: megabytes(process.memoryUsage()),
      gc: { count: gcs.count, totalMs: round(gcs.totalMs, 2), maxMs: round(gcs.maxMs, 2), maxMajorMs: round(gcs.maxMajorMs, 2) },
    }
    if (request.query.reset === '1') {
      histogram.reset()
      since = performance.eventLoopUtilization()
      Object.assign(gcs, { count: 0, totalMs: 0, maxMs: 0, maxMajorMs: 0 })
    }
    return reply.header('cache-control', 'no-store').send(stats)
  })
}
