/**
 * The REST face: one registration point for auth, error handling, the
 * per-resource routes and the docs. Routes are thin: parse, call the
 * MailServiceApi, serialise.
 */
import sseModule, { type SSEPluginOptions } from '@fastify/sse'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import type { Config } from '../config.ts'
import type { MailServiceApi } from '../mail/service-types.ts'
import type { Webhooks } from '../mail/webhooks.ts'
import { registerAuth } from './auth.ts'
import { restContentTypes } from './content-types.ts'
import { registerCors } from './cors.ts'
import { registerDocs } from './docs.ts'
import { errorHandler, notFoundHandler } from './errors.ts'
import { allowedMethods } from './methods.ts'
import { loadOpenApi } from './openapi.ts'
import type { HttpDeps } from './operation.ts'
import { registerRateLimit, type RequestLimiter } from './rate-limit.ts'
import { accountRoutes } from './routes/account.ts'
import { downloadRoutes } from './routes/downloads.ts'
import { eventRoutes } from './routes/events.ts'
import { mailboxRoutes } from './routes/mailboxes.ts'
import { mailboxWriteRoutes } from './routes/mailbox-writes.ts'
import { registerIdempotency } from './idempotency.ts'
import { messageRoutes } from './routes/messages.ts'
import { messageWriteRoutes } from './routes/message-writes.ts'
import { opsRoutes } from './routes/ops.ts'
import { sendRoutes } from './routes/send.ts'
import { sessionRoutes } from './routes/sessions.ts'
import { webhookRoutes } from './routes/webhooks.ts'
import { createValidatorCompiler } from './validation.ts'

/** The package's CommonJS export: the plugin wrapped by fastify-plugin (its `default` is the bare one, which would be encapsulated). */
const fastifySSE = sseModule as unknown as FastifyPluginAsync<SSEPluginOptions>

export interface HttpOptions {
  service: MailServiceApi
  config: Config
  /** RATE_LIMIT_PER_MINUTE counted by every instance together (Redis); absent: per process. */
  rateLimiter?: RequestLimiter | null
  webhooks?: Webhooks | null
}

/**
 * Global pieces (error and not-found handlers, request-id header, rate limit)
 * apply to every route, GraphQL included; the validator compiler, auth hook
 * and REST routes live in their own encapsulated context so they never touch
 * other plugins' routes.
 */
export async function registerHttp (app: FastifyInstance, { service, config, rateLimiter, webhooks }: HttpOptions): Promise<void> {
  const deps: HttpDeps = { service, config, doc: loadOpenApi(), webhooks: webhooks ?? null }

  app.setErrorHandler(errorHandler)
  const allowed = allowedMethods(() => app.registeredRoutes())
  app.setNotFoundHandler((request, reply) => notFoundHandler(request, reply, allowed))
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
    reply.header('x-content-type-options', 'nosniff')
  })
  if (config.rateLimitPerMinute !== null) registerRateLimit(app, config.rateLimitPerMinute, rateLimiter ?? null)
  if (config.corsOrigins !== null) await registerCors(app, config.corsOrigins)

  await app.register(async (rest) => {
    // SSE for GET /v1/events (heartbeat comments; headers and Last-Event-ID)
    await rest.register(fastifySSE, { heartbeatInterval: config.eventsHeartbeatMs })
    rest.setValidatorCompiler(createValidatorCompiler())
    restContentTypes(rest)
    registerAuth(rest, service)
    registerIdempotency(rest, service)
    sessionRoutes(rest, deps)
    accountRoutes(rest, deps)
    mailboxRoutes(rest, deps)
    mailboxWriteRoutes(rest, deps)
    messageRoutes(rest, deps)
    messageWriteRoutes(rest, deps)
    sendRoutes(rest, deps)
    downloadRoutes(rest, deps)
    opsRoutes(rest, deps)
    eventRoutes(rest, deps)
    webhookRoutes(rest, deps)
  })
  await registerDocs(app, deps.doc)
}
