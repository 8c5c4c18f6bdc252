/**
 * Opt-in process statistics for the benchmark (bench/): event-loop delay
 * (perf_hooks.monitorEventLoopDelay) and the message reader's cache outcomes,
 * at `GET /debug/stats` (`?reset=1` clears the delay histogram after reading).
 * Registered only when BENCH_EVENT_LOOP_STATS=1: off by default, never in the
 * OpenAPI document, no auth (bind the gateway to loopback when enabling it).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { FastifyInstance } from 'fastify'
import type { ReaderStats } from './mail/message-reader.ts'

export const DEBUG_STATS_ENV = 'BENCH_EVENT_LOOP_STATS'

export interface DebugStats {
  /** Milliseconds, since start or the last reset. */
  eventLoop: { p50: number, p99: number, max: number, samples: number }
  reader: ReaderStats
  rss: number
}

export function debugStatsEnabled (env: NodeJS.ProcessEnv = process.env): boolean {
  return env[DEBUG_STATS_ENV] === '1'
}

export function registerDebugStats (app: FastifyInstance, readerStats: () => ReaderStats): void {
  const histogram = monitorEventLoopDelay({ resolution: 10 })
  histogram.enable()
  app.addHook('onClose', async () => { histogram.disable() })
  const ms = (ns: number): number => Math.round(ns / 1e4) / 100

  app.get<{ Querystring: { reset?: string } }>('/debug/stats', async (request, reply) => {
    const stats: DebugStats = {
      eventLoop: {
        p50: ms(histogram.percentile(50)),
        p99: ms(histogram.percentile(99)),
        max: ms(histogram.max),
        samples: histogram.count,
      },
      reader: readerStats(),
      rss: process.memoryUsage.rss(),
    }
    if (request.query.reset === '1') histogram.reset()
    return reply.header('cache-control', 'no-store').send(stats)
  })
}
