/**
 * Webhook tests: the real gateway (createService + createWebhookRuntime, as
 * src/server.ts wires them) against the harness Dovecot and Redis, an
 * in-process event bus the test publishes to (the watchers are not under
 * test here), and a local HTTP receiver on loopback that records every
 * request and answers as the test says.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import pino from 'pino'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildApp } from '../../src/app.ts'
import { createService } from '../../src/compose.ts'
import { loadConfig, type Config } from '../../src/config.ts'
import { loggerOptions } from '../../src/logger.ts'
import type { BusSubscription, EventBus, MailEvent, Replay } from '../../src/mail/events.ts'
import type { MailService } from '../../src/mail/service.ts'
import { PrometheusMetrics } from '../../src/metrics/prometheus.ts'
import type { WebhookRuntime } from '../../src/webhooks/index.ts'
import { createWebhooks } from '../../src/webhooks/index.ts'
import { testEnv } from '../env/shared.ts'
import { LOG_DIR, recordSecret } from '../e2e/gateway.ts'
import { join } from 'node:path'

/** The bus of one instance: what the test publishes reaches this instance's subscribers. */
export class TestBus implements EventBus {
  readonly #listeners = new Map<string, Set<(event: MailEvent) => void>>()

  async publish (event: MailEvent): Promise<void> {
    for (const listener of this.#listeners.get(event.accountId) ?? []) listener(event)
  }

  subscribe (accountId: string, listener: (event: MailEvent) => void): BusSubscription {
    const set = this.#listeners.get(accountId) ?? new Set()
    set.add(listener)
    this.#listeners.set(accountId, set)
    return { close: () => { set.delete(listener) } }
  }

  subscribers (accountId: string): number {
    return this.#listeners.get(accountId)?.size ?? 0
  }

  async replayAfter (): Promise<Replay> { return { found: false } }
  async close (): Promise<void> { this.#listeners.clear() }
}

export interface Received {
  path: string
  headers: IncomingHttpHeaders
  body: string
  at: number
}

export type Responder = (req: Received, res: ServerResponse) => void

export interface Receiver {
  port: number
  url: (path: string) => string
  requests: Received[]
  /** How each path answers (default 200). */
  on: (path: string, responder: Responder) => void
  /** Resolves once `pred` holds over the requests so far (checked on every request). */
  waitFor: (pred: (requests: Received[]) => boolean, what: string, timeoutMs?: number) => Promise<void>
  close: () => Promise<void>
}

export async function startReceiver (): Promise<Receiver> {
  const requests: Received[] = []
  const responders = new Map<string, Responder>()
  const waiters = new Set<() => void>()
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const received = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() }
      requests.push(received)
      const responder = responders.get(received.path) ?? ((_r, res) => { res.writeHead(200).end('ok') })
      responder(received, res)
      for (const w of waiters) w()
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    requests,
    on: (path, responder) => { responders.set(path, responder) },
    waitFor: (pred, what, timeoutMs = 60_000) => new Promise<void>((resolve, reject) => {
      if (pred(requests)) { resolve(); return }
      const check = (): void => {
        if (!pred(requests)) return
        waiters.delete(check)
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`timed out waiting for ${what}; got ${requests.length} requests`)) }, timeoutMs)
      waiters.add(check)
    }),
    close: async () => {
      server.closeAllConnections()
      await new Promise(resolve => server.close(resolve))
    },
  }
}

export interface WebhookGateway {
  app: FastifyInstance
  service: MailService
  runtime: WebhookRuntime | null
  bus: TestBus
  config: Config
  metrics: PrometheusMetrics
  login: (user: { username: string, password: string }, ttl?: number) => Promise<{ token: string, accountId: string }>
  call: (method: 'GET' | 'POST' | 'DELETE', url: string, token: string, payload?: object) => Promise<LightMyRequestResponse>
  /** Prometheus text of this instance. */
  scrape: () => Promise<string>
  /** Token authentications the webhook runtime (fan-out and worker) asked for so far. */
  authentications: () => number
  close: () => Promise<void>
}

export const METRICS_TOKEN = 'metrics-token-0123456789'

export interface GatewayOptions {
  /** Shared by the instances of one test (another test's webhooks stay apart under another secret). */
  secret: string
  env?: Record<string, string>
  /** DNS for webhook URL checks. */
  lookup?: (host: string) => Promise<Array<{ address: string, family: number }>>
  redis?: boolean
  redisUrl?: string
}

export function newSecret (): string {
  return 'webhook-test-' + randomBytes(12).toString('hex')
}

export async function startWebhookGateway (opts: GatewayOptions): Promise<WebhookGateway> {
  const env = await testEnv()
  const config = loadConfig({
    GATEWAY_SECRET: opts.secret,
    MAIL_ALLOWED_HOSTS: '127.0.0.1',
    MAIL_TLS_CA_FILE: env.dovecot.caFile,
    LOG_LEVEL: 'debug',
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    WEBHOOK_RETRY_BASE_MS: '200',
    WEBHOOK_TIMEOUT_MS: '5000',
    METRICS_TOKEN,
    ...(opts.redis === false ? {} : { REDIS_URL: opts.redisUrl ?? env.redis.url }),
    ...opts.env,
  })
  const logger = pino(loggerOptions('debug'), pino.destination({ dest: join(LOG_DIR, `gateway-${process.pid}.log`), append: true, sync: true }))
  const metrics = new PrometheusMetrics()
  const service = createService(config, logger, metrics)
  const bus = new TestBus()
  let authentications = 0
  // as createWebhookRuntime (src/compose.ts), with the test's DNS and quicker polling
  const runtime = config.redisUrl === null
    ? null
    : createWebhooks({
      redisUrl: config.redisUrl,
      secret: config.secret,
      settings: config.webhooks,
      authenticate: async (token) => { authentications++; return await service.authenticate(token) },
      onRevoked: (listener) => service.onRevoked(listener),
      bus,
      watching: null,
      logger,
      metrics,
      ...(opts.lookup === undefined ? {} : { lookup: opts.lookup }),
      syncMs: 500,
      pollMs: 50,
    })
  let app: FastifyInstance
  try {
    app = await buildApp({ config, service, logger, metrics, webhooks: runtime?.api ?? null })
    await app.ready()
  } catch (err) {
    await runtime?.close()
    await service.close()
    throw err
  }
  return {
    app,
    service,
    runtime,
    bus,
    config,
    metrics,
    async login (user, ttl = 600) {
      recordSecret(user.password)
      const res = await app.inject({
        method: 'POST',
        url: '/v1/sessions',
        payload: { protocol: 'imap', host: '127.0.0.1', port: env.dovecot.ports.imaps, security: 'tls', username: user.username, password: user.password, ttl },
      })
      if (res.statusCode !== 201) throw new Error(`login failed: ${res.statusCode} ${res.body}`)
      const body = res.json() as { token: string, account: { id: string } }
      recordSecret(body.token)
      return { token: body.token, accountId: body.account.id }
    },
    call: (method, url, token, payload) => app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload === undefined ? {} : { payload }),
    }),
    scrape: async () => (await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).body,
    authentications: () => authentications,
    async close () {
      await runtime?.close()
      await app.close()
      await service.close()
    },
  }
}

/** A MailEvent for `accountId` (the shape the watchers publish). */
export function mailEvent (accountId: string, n: number, type: MailEvent['type'] = 'message.created', mailboxId = 'mbx-inbox'): MailEvent {
  return { id: `ev_test${n}_${randomBytes(6).toString('hex')}`, type, accountId, mailboxId, state: `s${n}`, at: new Date().toISOString(), messageIds: [`m${n}`] }
}

/** The value of a counter sample in Prometheus text (0 when absent). */
export function sample (text: string, name: string, labels: string): number {
  const line = text.split('\n').find(l => l.startsWith(`${name}{${labels}}`))
  return line === undefined ? 0 : Number(line.split(' ').pop())
}

/** `probe` every 100 ms until `done` holds of its value, at most `tries` times; the last value. */
export async function poll<T> (probe: () => Promise<T>, done: (value: T) => boolean, tries = 300): Promise<T> {
  let value = await probe()
  for (let i = 1; i < tries && !done(value); i++) {
    await new Promise(resolve => setTimeout(resolve, 100))
    value = await probe()
  }
  return value
}
