/**
 * Registers one route for one openapi.yaml operation: the URL, the request
 * schemas and whether a bearer token is needed all come from the document.
 */
import type { SSERouteOptions } from '@fastify/sse'
import type { FastifyInstance, RouteGenericInterface, RouteHandlerMethod } from 'fastify'
import type { MailServiceApi } from '../mail/service-types.ts'
import type { Config } from '../config.ts'
import type { Webhooks } from '../mail/webhooks.ts'
import { requestSchemas, requiresBearer, toFastifyPath } from './openapi.ts'
import type { OpenApiDocument } from './openapi.ts'

export interface HttpDeps {
  service: MailServiceApi
  config: Config
  doc: OpenApiDocument
  /** Webhook registrations; null without Redis. */
  webhooks?: Webhooks | null
}

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE'

export function operation<G extends RouteGenericInterface = RouteGenericInterface> (
  app: FastifyInstance,
  doc: OpenApiDocument,
  method: Method,
  path: string,
  handler: RouteHandlerMethod<any, any, any, G>,
  /** Route options beyond the document's (e.g. `sse`, `exposeHeadRoute`, `bodyLimit`). */
  extra: { sse?: SSERouteOptions, exposeHeadRoute?: boolean, bodyLimit?: number } = {}
): void {
  app.route<G>({
    ...extra,
    method,
    url: toFastifyPath(path),
    schema: requestSchemas(doc, method, path),
    config: { auth: requiresBearer(doc, method, path) },
    handler,
  })
}
