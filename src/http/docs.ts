/**
 * GET /docs: the checked-in openapi.yaml (static mode: served as written, never
 * regenerated from routes) with Swagger UI; /docs/json and /docs/yaml serve
 * the document itself.
 *
 * The UI's Content-Security-Policy is the plugin's strict one without
 * `upgrade-insecure-requests`: over plain HTTP under any name but localhost a
 * browser would fetch the UI's own scripts over HTTPS from a server that has
 * none, and show a blank page. The gateway is often reached over plain HTTP
 * inside a private network, or behind a proxy that terminates TLS (where the
 * page's URLs are already https). No online validator is asked about the
 * document (it would also leak it).
 */
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import type { OpenApiDocument } from './openapi.ts'

/** The one inline style Swagger UI sets (its bundle's, as of @fastify/swagger-ui 6.1): allowed by hash. */
const UI_INLINE_STYLE = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='"

export function docsCsp (header: string): string {
  return header
    .replace(/\s*upgrade-insecure-requests;?/g, '')
    .replace(/\s*validator\.swagger\.io/g, '')
    .replace(/style-src ([^;]*);/, (_m, sources: string) => `style-src ${sources.trim()} 'unsafe-hashes' ${UI_INLINE_STYLE};`)
    .trim()
}

export async function registerDocs (app: FastifyInstance, doc: OpenApiDocument): Promise<void> {
  await app.register(swagger, { mode: 'static', specification: { document: doc as never } })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    transformStaticCSP: docsCsp,
    uiConfig: { docExpansion: 'list', deepLinking: true, validatorUrl: null },
  })
}
