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
import { requestIdleBoundMs } from './util/operation-timeout.ts'
import { registerGraphql } from './graphql/index.ts'

export interface BuildAppOptions {
  config: Config
  service: MailServiceApi
  /** A pino logger; default: one at config.logLevel writing to stdout. */
  logger?: FastifyBaseLogger
}

export interface RouteEntry {
  method: string
  url: string
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered, as (method, url); used by the contract tests. */
    registeredRoutes: () => RouteEntry[]
  }
}

export async function buildApp ({ config, service, logger }: BuildAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger ?? createLogger(config.logLevel),
    genReqId,
    childLoggerFactory: (logger, bindings, opts) => lazyChildLogger(logger as Logger, bindings, opts),
    requestIdHeader: false,
    bodyLimit: config.bodyLimit,
    trustProxy: false,
    exposeHeadRoutes: false,
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

  await registerHttp(app, { service, config })

  // GraphQL face (src/graphql): POST /graphql, GraphiQL at /graphiql when enabled.
  await registerGraphql(app, {
    service,
    config,
    limits: { maxDepth: config.graphqlMaxDepth, maxCost: config.graphqlMaxCost },
  })

  return app
}
