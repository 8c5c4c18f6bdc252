/**
 * Metrics over HTTP: request counts and latencies by route pattern, and the
 * `/metrics` exposition, either on the gateway's port behind a bearer token
 * (METRICS_TOKEN) or on a listener of its own that serves only `/metrics`
 * (METRICS_PORT, on HOST, no token: keep that port off the public network).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { bearerToken } from '../http/auth.ts'
import { GatewayError } from '../mail/errors.ts'
import type { MetricsPort } from './port.ts'
import type { PrometheusMetrics } from './prometheus.ts'

/** Seconds: from a cached read (~1 ms) to a request that waits out several upstream timeouts. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

/** The label of a request no route matched (its URL is never a label). */
export const UNMATCHED = 'unmatched'

/** Counts every response by method, route pattern and status, and times it. */
export function instrumentRequests (app: FastifyInstance, metrics: MetricsPort): void {
  const requests = metrics.counter({
    name: 'http_requests_total',
    help: 'HTTP responses sent, by method, route pattern and status code.',
    labels: ['method', 'route', 'status'],
  })
  const latency = metrics.histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving a request to sending its response, by method and route pattern.',
    labels: ['method', 'route'],
    buckets: LATENCY_BUCKETS,
  })
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? UNMATCHED
    requests.inc({ method: request.method, route, status: String(reply.statusCode) })
    latency.observe({ method: request.method, route }, reply.elapsedTime / 1000)
  })
}

function sameSecret (given: string, expected: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest()
  return timingSafeEqual(digest(given), digest(expected))
}

/** `GET /metrics` on the gateway's own port, for callers with the metrics token. */
export function registerMetricsRoute (app: FastifyInstance, metrics: PrometheusMetrics, token: string): void {
  app.get('/metrics', async (request, reply) => {
    if (!sameSecret(bearerToken(request.headers.authorization), token)) {
      throw new GatewayError('unauthorized', 'Wrong metrics token')
    }
    const { contentType, body } = await metrics.scrape()
    return reply.type(contentType).header('cache-control', 'no-store').send(body)
  })
}

export interface MetricsListener {
  port: number
  close: () => Promise<void>
}

/** A listener that serves `GET /metrics` and nothing else, without a token. */
export async function startMetricsListener (metrics: PrometheusMetrics, host: string, port: number): Promise<MetricsListener> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(path === '/metrics' ? 405 : 404, path === '/metrics' ? { allow: 'GET, HEAD' } : {}).end()
      return
    }
    metrics.scrape().then(({ contentType, body }) => {
      res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' })
      res.end(req.method === 'HEAD' ? undefined : body)
    }, () => { res.writeHead(500).end() })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port }, () => { server.off('error', reject); resolve() })
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    },
  }
}
