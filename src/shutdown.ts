/**
 * Graceful shutdown on SIGTERM or SIGINT (close-with-grace): stop accepting
 * connections, let the requests in flight finish for up to SHUTDOWN_GRACE_MS,
 * then close what is still open; log out of the mail servers (the pools drain
 * in the app's onClose hook), close the metrics listener, exit 0. The whole
 * shutdown is bounded: past the grace period plus DRAIN_MS the process exits 1.
 * A second signal exits at once. Both bounds together (10 s by default) fit
 * the stop timeout of `docker stop`.
 */
import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'

/** How long logging out of mail servers may take after the requests are done (ms). */
export const DRAIN_MS = 2000

export interface ShutdownOptions {
  app: FastifyInstance
  logger: Logger
  graceMs: number
  /** Closed after the app (the metrics listener). */
  after?: () => Promise<void>
}

/** Stops accepting, waits for requests in flight up to `graceMs`, then closes their connections. */
export async function closeApp (app: FastifyInstance, logger: Logger, graceMs: number): Promise<void> {
  const force = setTimeout(() => {
    logger.warn({ graceMs }, 'requests still in flight after the grace period: closing their connections')
    app.server.closeAllConnections()
  }, graceMs)
  try {
    await app.close()
  } finally {
    clearTimeout(force)
  }
}

export function installShutdown ({ app, logger, graceMs, after }: ShutdownOptions): void {
  closeWithGrace({
    delay: graceMs + DRAIN_MS,
    onTimeout: (delay) => { logger.error({ delay }, 'shutdown took too long: exiting') },
    onSecondSignal: (signal) => { logger.warn({ signal }, 'second signal: exiting at once') },
  }, async ({ signal, err }) => {
    if (err !== undefined) logger.error({ err }, 'closing after an error')
    else logger.info({ signal }, 'closing: no new connections; waiting for requests in flight')
    await closeApp(app, logger, graceMs)
    await after?.()
    logger.info('closed')
  })
}
