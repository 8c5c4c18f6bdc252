/**
 * Entry point: configuration, metrics (when asked for), the mail service, the
 * app, and a graceful close (shutdown.ts: stop accepting, finish in-flight
 * requests within a bound, then log out of the mail servers).
 */
import { buildApp } from './app.ts'
import { createRealtime, createService, createSharedState, createWebhookRuntime } from './compose.ts'
import { loadConfig } from './config.ts'
import { debugStatsEnabled, registerDebugStats } from './debug-stats.ts'
import type { Config } from './config.ts'
import { createLogger } from './logger.ts'
import { startMetricsListener, type MetricsListener } from './metrics/http.ts'
import { PrometheusMetrics } from './metrics/prometheus.ts'
import { installShutdown } from './shutdown.ts'

async function main (): Promise<void> {
  let config: Config
  try {
    config = loadConfig()
  } catch (err) {
    console.error(`configuration error: ${(err as Error).message}`)
    process.exit(1)
  }
  const logger = createLogger(config.logLevel)
  if (config.secretIsRandom) {
    logger.warn('GATEWAY_SECRET is not set: using a random secret for this process only. ' +
      'Tokens will not survive a restart and other instances will not accept them. Set GATEWAY_SECRET in production.')
  }

  const metrics = config.metricsToken !== null || config.metricsPort !== null ? new PrometheusMetrics() : null
  const shared = createSharedState(config, logger)
  const service = createService(config, logger, metrics ?? undefined, shared)
  const rateLimiter = config.rateLimitPerMinute === null ? null : shared.requestLimiter(config.rateLimitPerMinute)
  const realtime = createRealtime(service)
  const webhooks = createWebhookRuntime(config, service, logger, metrics ?? undefined)
  const app = await buildApp({ config, service, logger, metrics, rateLimiter, webhooks: webhooks?.api ?? null, ...(realtime === undefined ? {} : { realtime }) })
  // subscribers end first (preClose), then the webhook workers, then service.close: the watchers, the pools, the bus, the cache
  app.addHook('onClose', async () => { await webhooks?.close(); await service.close() })
  if (debugStatsEnabled()) registerDebugStats(app, () => service.readerStats())

  let metricsListener: MetricsListener | null = null
  installShutdown({ app, logger, graceMs: config.shutdownGraceMs, after: async () => { await metricsListener?.close() } })

  await app.listen({ host: config.host, port: config.port })
  if (metrics !== null && config.metricsPort !== null) {
    metricsListener = await startMetricsListener(metrics, config.host, config.metricsPort)
    logger.info({ port: metricsListener.port }, 'metrics listening (GET /metrics only)')
  }
}

main().catch((err: unknown) => {
  console.error('failed to start', err)
  process.exit(1)
})
