/**
 * GET /docs: the checked-in openapi.yaml (static mode: served as written, never
 * regenerated from routes) with Swagger UI; /docs/json and /docs/yaml serve
 * the document itself.
 */
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import type { OpenApiDocument } from './openapi.ts'

export async function registerDocs (app: FastifyInstance, doc: OpenApiDocument): Promise<void> {
  await app.register(swagger, { mode: 'static', specification: { document: doc as never } })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    uiConfig: { docExpansion: 'list', deepLinking: true },
  })
}
