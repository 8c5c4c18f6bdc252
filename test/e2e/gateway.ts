/**
 * The real gateway for end-to-end tests: buildApp + createService exactly as
 * src/server.ts wires them, pointed at the harness Dovecot (and Redis when
 * asked), logging at debug level into the run's log directory so the final
 * log scan can look for leaked secrets. Every password and token a test uses
 * is recorded for that scan.
 */
import { appendFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import pino from 'pino'
import { buildApp } from '../../src/app.ts'
import { createService } from '../../src/compose.ts'
import { loadConfig, type Config } from '../../src/config.ts'
import { loggerOptions } from '../../src/logger.ts'
import type { Account } from '../../src/mail/types.ts'
import { testEnv, type TestEnv } from '../env/shared.ts'

export const LOG_DIR = process.env.TEST_LOG_DIR ?? join(tmpdir(), 'mail-gateway-test-logs')
mkdirSync(LOG_DIR, { recursive: true })

/** Remember a secret the log scan must never find. */
export function recordSecret (secret: string): void {
  appendFileSync(join(LOG_DIR, 'secrets.txt'), secret + '\n')
}

export interface LoginOptions {
  protocol?: 'imap' | 'pop3'
  security?: 'tls' | 'starttls' | 'none'
  password?: string
}

export interface Gateway {
  app: FastifyInstance
  env: TestEnv
  config: Config
  login: (user: { username: string, password: string }, opts?: LoginOptions) => Promise<{ token: string, account: Account }>
  get: (url: string, token: string, headers?: Record<string, string>) => Promise<LightMyRequestResponse>
  close: () => Promise<void>
}

export async function startGateway (overrides: { redis?: boolean, env?: Record<string, string> } = {}): Promise<Gateway> {
  const env = await testEnv()
  const config = loadConfig({
    GATEWAY_SECRET: 'test-secret-0123456789abcdef',
    MAIL_ALLOWED_HOSTS: '127.0.0.1,localhost',
    MAIL_TLS_CA_FILE: env.dovecot.caFile,
    LOG_LEVEL: 'debug',
    UPSTREAM_TIMEOUT_MS: '10000',
    ...(overrides.redis === true ? { REDIS_URL: env.redis.url } : {}),
    ...overrides.env,
  })
  const logger = pino(loggerOptions('debug'), pino.destination({ dest: join(LOG_DIR, `gateway-${process.pid}.log`), append: true, sync: true }))
  const service = createService(config, logger)
  const app = await buildApp({ config, service, logger })
  await app.ready()

  const ports = { imap: { tls: env.dovecot.ports.imaps, starttls: env.dovecot.ports.imap, none: env.dovecot.ports.imap }, pop3: { tls: env.dovecot.ports.pop3s, starttls: env.dovecot.ports.pop3, none: env.dovecot.ports.pop3 } }

  return {
    app,
    env,
    config,
    async login (user, opts = {}) {
      const protocol = opts.protocol ?? 'imap'
      const security = opts.security ?? 'tls'
      const password = opts.password ?? user.password
      recordSecret(password)
      const res = await app.inject({
        method: 'POST',
        url: '/v1/sessions',
        payload: { protocol, host: '127.0.0.1', port: ports[protocol][security], security, username: user.username, password },
      })
      if (res.statusCode !== 201) throw Object.assign(new Error(`login failed: ${res.statusCode} ${res.body}`), { response: res })
      const body = res.json() as { token: string, account: Account }
      recordSecret(body.token)
      return body
    },
    get: (url, token, headers = {}) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, ...headers } }),
    async close () {
      await app.close()
      await service.close()
    },
  }
}
