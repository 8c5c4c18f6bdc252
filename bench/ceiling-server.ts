/**
 * The ceiling: a bare fastify (default settings, no logger) answering
 * GET /v1/messages/:id with the exact JSON bytes the gateway sent for that id
 * (read from the file named by CEILING_BODIES: { [id]: json }). It shows what
 * this machine can do for an HTTP request of that size with nothing else.
 */
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'

const bodies = new Map(Object.entries(JSON.parse(readFileSync(process.env.CEILING_BODIES!, 'utf8')) as Record<string, string>))
const app = Fastify({ logger: false })
app.get<{ Params: { id: string } }>('/v1/messages/:id', async (request, reply) => {
  const body = bodies.get(request.params.id)
  if (body === undefined) return await reply.code(404).send()
  return await reply.type('application/json; charset=utf-8').send(body)
})
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) })
