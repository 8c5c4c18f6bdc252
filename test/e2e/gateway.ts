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
import { buildApp, type BuildAppOptions } from '../../src/app.ts'
import { createRealtime, createService } from '../../src/compose.ts'
import { loadConfig, type Config } from '../../src/config.ts'
import { loggerOptions } from '../../src/logger.ts'
import type { MailBackend } from '../../src/mail/backend.ts'
import type { MailService, MailServiceOptions } from '../../src/mail/service.ts'
import { PrometheusMetrics } from '../../src/metrics/prometheus.ts'
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
  /** Another server on 127.0.0.1 (a scripted fake) instead of the harness Dovecot. */
  port?: number
  /** The session's `smtp` settings as sent (e.g. the harness Postfix: `gw.smtp()`). */
  smtp?: Record<string, unknown>
}

export interface Gateway {
  app: FastifyInstance
  service: MailService
  env: TestEnv
  config: Config
  /** Set when started with `metrics: true`. */
  metrics: PrometheusMetrics | null
  login: (user: { username: string, password: string }, opts?: LoginOptions) => Promise<{ token: string, account: Account }>
  /** `smtp` settings of the harness Postfix (submission with STARTTLS unless `security: 'tls'`). */
  smtp: (security?: 'tls' | 'starttls') => Record<string, unknown>
  get: (url: string, token: string, headers?: Record<string, string>) => Promise<LightMyRequestResponse>
  /** Record the calls of one backend method (the keys' count for batched ones), to count upstream work. */
  countCalls: (protocol: 'imap' | 'pop3', method: 'getMessages' | 'listMailboxes' | 'openRaw') => number[]
  close: () => Promise<void>
}

export async function startGateway (overrides: { redis?: boolean, metrics?: boolean, env?: Record<string, string>, dovecot?: TestEnv['dovecot'], realtime?: BuildAppOptions['realtime'] | true } = {}): Promise<Gateway> {
  const shared = await testEnv()
  // a private Dovecot (another config) in place of the run's
  const env: TestEnv = overrides.dovecot === undefined ? shared : { ...shared, dovecot: overrides.dovecot }
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
  const metrics = overrides.metrics === true ? new PrometheusMetrics() : null
  const service = createService(config, logger, metrics ?? undefined)
  // `realtime: true`: the bus and watching server.ts composes
  const realtime = overrides.realtime === true ? createRealtime(service) : overrides.realtime
  const app = await buildApp({ config, service, logger, metrics, ...(realtime === undefined ? {} : { realtime }) })
  await app.ready()

  const ports = { imap: { tls: env.dovecot.ports.imaps, starttls: env.dovecot.ports.imap, none: env.dovecot.ports.imap }, pop3: { tls: env.dovecot.ports.pop3s, starttls: env.dovecot.ports.pop3, none: env.dovecot.ports.pop3 } }

  const backends = (service as unknown as { opts: MailServiceOptions }).opts.backends

  return {
    app,
    service,
    env,
    config,
    metrics,
    async login (user, opts = {}) {
      const protocol = opts.protocol ?? 'imap'
      const security = opts.security ?? 'tls'
      const password = opts.password ?? user.password
      recordSecret(password)
      const res = await app.inject({
        method: 'POST',
        url: '/v1/sessions',
        payload: { protocol, host: '127.0.0.1', port: opts.port ?? ports[protocol][security], security, username: user.username, password, ...(opts.smtp === undefined ? {} : { smtp: opts.smtp }) },
      })
      if (res.statusCode !== 201) throw Object.assign(new Error(`login failed: ${res.statusCode} ${res.body}`), { response: res })
      const body = res.json() as { token: string, account: Account }
      recordSecret(body.token)
      return body
    },
    smtp: (security = 'starttls') => ({
      host: '127.0.0.1',
      port: security === 'tls' ? env.postfix.ports.submissions : env.postfix.ports.submission,
      security,
    }),
    get: (url, token, headers = {}) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, ...headers } }),
    countCalls (protocol, method) {
      const calls: number[] = []
      const backend: MailBackend = backends[protocol]
      const original = backend[method].bind(backend) as (...args: any[]) => Promise<any>
      Object.assign(backend, {
        [method]: async (...args: any[]) => {
          calls.push(Array.isArray(args[1]) ? args[1].length : 1)
          return original(...args)
        },
      })
      return calls
    },
    async close () {
      await app.close()
      await service.close()
    },
  }
}
