/**
 * Entry point: configuration, the mail service, the app, and a graceful close
 * (stop accepting, finish in-flight requests, then drain the mail pools).
 */
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.ts'
import { createService } from './compose.ts'
import { loadConfig } from './config.ts'
import { debugStatsEnabled, registerDebugStats } from './debug-stats.ts'
import type { Config } from './config.ts'
import { createLogger } from './logger.ts'

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

  const service = createService(config, logger)
  const app = await buildApp({ config, service, logger })
  app.addHook('onClose', async () => { await service.close() })
  if (debugStatsEnabled()) registerDebugStats(app, () => service.readerStats())

  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err !== undefined) logger.error({ err }, 'closing after an error')
    else logger.info({ signal }, 'closing')
    await app.close()
  })

  await app.listen({ host: config.host, port: config.port })
}

main().catch((err: unknown) => {
  console.error('failed to start', err)
  process.exit(1)
})
