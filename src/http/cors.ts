/**
 * CORS for browser apps on other origins (@fastify/cors), off unless
 * CORS_ORIGINS is set: a list of exact origins (`https://app.example.com`), or
 * `*` for any origin. Requests carry the bearer token in Authorization, never
 * cookies, so credentials are never allowed (and so never with `*`).
 * Preflights are answered for every route, REST and /graphql alike.
 */
import cors from '@fastify/cors'
import type { FastifyInstance } from 'fastify'

/** What browsers may send and read beyond the CORS-safelisted headers. */
const ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'If-None-Match']
const EXPOSED_HEADERS = ['ETag', 'Retry-After', 'X-Request-Id', 'Content-Disposition', 'Content-Length', 'Allow']

/** CORS_ORIGINS → '*' or origins (scheme://host[:port], as browsers send them); throws on anything else. */
export function parseCorsOrigins (raw: string | undefined): string[] | '*' | null {
  const entries = raw?.split(',').map(s => s.trim()).filter(Boolean) ?? []
  if (entries.length === 0) return null
  if (entries.includes('*')) {
    if (entries.length > 1) throw new Error('CORS_ORIGINS is either * or a list of origins, not both')
    return '*'
  }
  return entries.map((entry) => {
    let url: URL | undefined
    try { url = new URL(entry) } catch { url = undefined }
    if (url === undefined || !/^https?:$/.test(url.protocol) || url.origin !== entry.replace(/\/$/, '').toLowerCase()) {
      throw new Error(`CORS_ORIGINS entries must be origins like https://app.example.com, got "${entry}"`)
    }
    return url.origin
  })
}

export async function registerCors (app: FastifyInstance, origins: string[] | '*'): Promise<void> {
  await app.register(cors, {
    origin: origins,
    credentials: false,
    methods: ['GET', 'HEAD', 'POST', 'DELETE'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600,
    // an OPTIONS that is not a preflight is answered 204 too, not with a text/plain 400
    strictPreflight: false,
  })
}
