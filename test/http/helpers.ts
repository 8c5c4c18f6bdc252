/**
 * Builds the real app over a FakeService, with pino writing into memory so
 * tests can read (and scan) every log line.
 */
import { Writable } from 'node:stream'
import type { TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import type { Config } from '../../src/config.ts'
import { createLogger } from '../../src/logger.ts'
import { FakeService, GOOD_TOKEN } from './fake-service.ts'

export interface Harness {
  app: FastifyInstance
  service: FakeService
  config: Config
  /** Every log line written so far, raw. */
  logs: () => string
}

export async function setup (t: TestContext, env: NodeJS.ProcessEnv = {}, service = new FakeService()): Promise<Harness> {
  const config = loadConfig({ GATEWAY_SECRET: 'a-test-secret-of-enough-length', ...env })
  const chunks: string[] = []
  const sink = new Writable({
    write (chunk: Buffer, _enc, done) { chunks.push(chunk.toString('utf8')); done() },
  })
  const app = await buildApp({ config, service, logger: createLogger('trace', sink) })
  await app.ready()
  t.after(() => app.close())
  return { app, service, config, logs: () => chunks.join('') }
}

export const auth = { authorization: `Bearer ${GOOD_TOKEN}` }
