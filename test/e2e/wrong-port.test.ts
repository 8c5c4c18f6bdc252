/**
 * A session whose `security` or protocol does not fit the port, against the
 * real Dovecot's four ports: answered at once with what to change, not after
 * the greeting timeout. And these caller mistakes (with an unresolvable host
 * and a closed port) are logged below `error`, without stack traces.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import { Writable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.ts'
import { createService } from '../../src/compose.ts'
import { loadConfig } from '../../src/config.ts'
import { createLogger } from '../../src/logger.ts'
import type { MailService } from '../../src/mail/service.ts'
import { testEnv, type TestEnv } from '../env/shared.ts'
import { recordSecret } from './gateway.ts'

/** Far beyond what any answer below may take: a wait for the greeting timeout would exceed it. */
const UPSTREAM_TIMEOUT_MS = 20_000
const PROMPT_MS = 6000

async function closedPort (): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1')
  await new Promise(resolve => server.once('listening', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise(resolve => server.close(resolve))
  return port
}

describe('wrong security or protocol for the port', { timeout: 120_000 }, () => {
  let env: TestEnv
  let app: FastifyInstance
  let service: MailService
  const lines: string[] = []
  let user: { username: string, password: string }

  before(async () => {
    env = await testEnv()
    const config = loadConfig({
      GATEWAY_SECRET: 'test-secret-0123456789abcdef',
      MAIL_ALLOWED_HOSTS: '127.0.0.1,localhost,no-such-host.invalid',
      MAIL_TLS_CA_FILE: env.dovecot.caFile,
      UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
      // every case here is a failed login of one account: the login throttle is not under test
      LOGIN_RATE_PER_CLIENT: '0',
      LOGIN_RATE_PER_ACCOUNT: '0',
    })
    const sink = new Writable({ write (c: Buffer, _e, done) { lines.push(...c.toString('utf8').split('\n').filter(Boolean)); done() } })
    const logger = createLogger('debug', sink)
    service = createService(config, logger)
    app = await buildApp({ config, service, logger })
    await app.ready()
    user = await env.dovecot.createUser('wrongport')
    recordSecret(user.password)
  })
  after(async () => {
    await app?.close()
    await service?.close()
  })

  const login = async (body: Record<string, unknown>): Promise<{ status: number, detail: string, ms: number, reqId: string }> => {
    const started = Date.now()
    const res = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { host: '127.0.0.1', username: user.username, password: user.password, ...body } })
    return { status: res.statusCode, detail: String(res.json().detail), ms: Date.now() - started, reqId: String(res.headers['x-request-id']) }
  }

  const cases = (): Array<[string, Record<string, unknown>, RegExp]> => {
    const p = env.dovecot.ports
    return [
      ['IMAP, no TLS, on the implicit-TLS port', { protocol: 'imap', port: p.imaps, security: 'none' }, /speaks TLS on this port: use security: tls/],
      ['IMAP, STARTTLS, on the implicit-TLS port', { protocol: 'imap', port: p.imaps, security: 'starttls' }, /speaks TLS on this port: use security: tls/],
      ['IMAP, TLS, on the plain port', { protocol: 'imap', port: p.imap, security: 'tls' }, /speaks plain text on this port: use security: starttls or none/],
      ['IMAP on the POP3 port', { protocol: 'imap', port: p.pop3, security: 'none' }, /speaks POP3 on this port, not IMAP: use protocol: pop3/],
      ['IMAP, TLS, on the POP3 TLS port', { protocol: 'imap', port: p.pop3s, security: 'tls' }, /speaks POP3 on this port, not IMAP/],
      ['POP3, no TLS, on the implicit-TLS port', { protocol: 'pop3', port: p.pop3s, security: 'none' }, /speaks TLS on this port: use security: tls/],
      ['POP3, STARTTLS, on the implicit-TLS port', { protocol: 'pop3', port: p.pop3s, security: 'starttls' }, /speaks TLS on this port: use security: tls/],
      ['POP3, TLS, on the plain port', { protocol: 'pop3', port: p.pop3, security: 'tls' }, /speaks plain text on this port: use security: starttls or none/],
      ['POP3 on the IMAP port', { protocol: 'pop3', port: p.imap, security: 'none' }, /speaks IMAP on this port, not POP3: use protocol: imap/],
      ['POP3, TLS, on the IMAP TLS port', { protocol: 'pop3', port: p.imaps, security: 'tls' }, /speaks IMAP on this port, not POP3/],
    ]
  }

  it('says what to change, promptly (no greeting timeout)', async () => {
    for (const [name, body, detail] of cases()) {
      const res = await login(body)
      assert.equal(res.status, 502, `${name}: ${res.detail}`)
      assert.match(res.detail, detail, name)
      assert.ok(res.ms < PROMPT_MS, `${name}: answered after ${res.ms} ms`)
    }
  })

  it('the right settings still log in', async () => {
    const p = env.dovecot.ports
    for (const body of [{ protocol: 'imap', port: p.imap, security: 'none' }, { protocol: 'imap', port: p.imap, security: 'starttls' }, { protocol: 'pop3', port: p.pop3s, security: 'tls' }]) {
      const res = await login(body)
      assert.equal(res.status, 201, `${JSON.stringify(body)}: ${res.detail}`)
    }
  })

  it('caller mistakes are logged at info/warn, without a stack trace', async () => {
    const mistakes = [
      await login({ protocol: 'imap', host: 'no-such-host.invalid', port: 993 }),
      await login({ protocol: 'imap', port: await closedPort(), security: 'none' }),
      await login({ protocol: 'imap', port: env.dovecot.ports.imaps, security: 'none' }),
      await login({ protocol: 'pop3', port: env.dovecot.ports.pop3, security: 'tls' }),
    ]
    for (const m of mistakes) {
      assert.equal(m.status, 502, m.detail)
      const logged = lines.map(l => JSON.parse(l) as { level: number, reqId?: string, msg?: string }).filter(l => l.reqId === m.reqId)
      assert.ok(logged.some(l => l.level >= 30 && l.level <= 40 && /request failed|request refused/.test(l.msg ?? '')), `${m.detail}: logged at info/warn`)
      assert.ok(logged.every(l => l.level < 50), `${m.detail}: nothing at error: ${JSON.stringify(logged.filter(l => l.level >= 50))}`)
      assert.ok(!lines.filter(l => l.includes(m.reqId)).some(l => l.includes('"stack"')), `${m.detail}: no stack trace`)
    }
  })
})
