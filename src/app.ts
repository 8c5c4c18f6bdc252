/**
 * Builds the fastify application (never listens: src/server.ts does, tests
 * inject). The mail service is passed in, so tests can hand over a fake.
 */
import Fastify from 'fastify'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { Config } from './config.ts'
import { errorHandler } from './http/errors.ts'
import { registerHttp } from './http/index.ts'
import { createLogger, genReqId, lazyChildLogger } from './logger.ts'
import { MAX_ID_CHARS } from './mail/ids.ts'
import type { MailServiceApi } from './mail/service-types.ts'
import type { Webhooks } from './mail/webhooks.ts'
import { instrumentRequests, registerMetricsRoute } from './metrics/http.ts'
import type { PrometheusMetrics } from './metrics/prometheus.ts'
import type { RouteEntry } from './http/methods.ts'
import type { RequestLimiter } from './http/rate-limit.ts'
import { clientErrorHandler } from './http/client-error.ts'
import { requestIdleBoundMs } from './util/operation-timeout.ts'
import { registerGraphql } from './graphql/index.ts'
import type { EventBus } from './mail/events.ts'
import type { Watching } from './mail/watch-port.ts'

export interface BuildAppOptions {
  config: Config
  service: MailServiceApi
  /** A pino logger; default: one at config.logLevel writing to stdout. */
  logger?: FastifyBaseLogger
  /** Metrics (on when METRICS_TOKEN or METRICS_PORT is set): requests are counted, and with a token served at /metrics. */
  metrics?: PrometheusMetrics | null
  /** RATE_LIMIT_PER_MINUTE shared by every instance (Redis: compose.ts); absent: per process. */
  rateLimiter?: RequestLimiter | null
  /** Events for subscribers: GraphQL subscriptions are served only with these. */
  realtime?: { bus: EventBus, watching: Watching }
  /** Webhook registrations (src/webhooks, with Redis); absent: the webhook routes answer 422. */
  webhooks?: Webhooks | null
}

export type { RouteEntry } from './http/methods.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered, as (method, url); used by the contract tests. */
    registeredRoutes: () => RouteEntry[]
  }
}

export async function buildApp ({ config, service, logger, metrics, rateLimiter, realtime, webhooks }: BuildAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger ?? createLogger(config.logLevel),
    genReqId,
    childLoggerFactory: (logger, bindings, opts) => lazyChildLogger(logger as Logger, bindings, opts),
    requestIdHeader: false,
    bodyLimit: config.bodyLimit,
    trustProxy: false,
    // RFC 9110 §9.3.2: every GET route answers HEAD
    exposeHeadRoutes: true,
    clientErrorHandler,
    // Receiving a request is quick; waiting on a mail server may take several upstream timeouts.
    requestTimeout: 30_000,
    connectionTimeout: Math.max(60_000, requestIdleBoundMs(config.upstreamTimeoutMs)),
    keepAliveTimeout: 72_000,
    routerOptions: { maxParamLength: MAX_ID_CHARS },
    return503OnClosing: true,
    // URL errors fastify answers before routing (bad percent-encoding, a path
    // parameter over maxParamLength) get the same problem+json as everything else.
    frameworkErrors: errorHandler,
  }) as unknown as FastifyInstance

  const routes: RouteEntry[] = []
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url })
  })
  app.decorate('registeredRoutes', () => routes.slice())
  if (metrics) instrumentRequests(app, metrics)

  await registerHttp(app, { service, config, rateLimiter: rateLimiter ?? null, webhooks })

  // GraphQL face (src/graphql): POST /graphql, GraphiQL at /graphiql when enabled,
  // subscriptions over WebSocket at /graphql with realtime.
  await registerGraphql(app, {
    service,
    config,
    limits: { maxDepth: config.graphqlMaxDepth, maxCost: config.graphqlMaxCost },
    ...(realtime === undefined
      ? {}
      : { realtime: { ...realtime, subscribersPerToken: config.eventsSubscribersPerToken, maxConnections: config.graphqlWsMaxConnections } }),
  })
  if (metrics && config.metricsToken !== null) registerMetricsRoute(app, metrics, config.metricsToken)

  return app
}
