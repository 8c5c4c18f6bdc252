import type { FastifyInstance } from 'fastify'
import { operation } from '../operation.ts'
import type { HttpDeps } from '../operation.ts'

export function opsRoutes (app: FastifyInstance, { service, config, doc }: HttpDeps): void {
  operation(app, doc, 'GET', '/healthz', async (_request, reply) => {
    return reply.header('cache-control', 'no-store').send({ status: 'ok' })
  })

  // A degraded cache (Redis down, served without it) is still ready.
  operation(app, doc, 'GET', '/readyz', async (request, reply) => {
    reply.header('cache-control', 'no-store')
    try {
      const report = await service.readiness()
      const status = !report.ready ? 'unavailable' : report.cache.status === 'ok' ? 'ok' : 'degraded'
      return reply.code(report.ready ? 200 : 503).send({ status, cache: report.cache })
    } catch (err) {
      const backend = config.redisUrl === null ? 'memory' : 'redis'
      request.log.error({ err }, 'readiness check failed')
      return reply.code(503).send({ status: 'unavailable', cache: { backend, status: 'degraded' } })
    }
  })
}
