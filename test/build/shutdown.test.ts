/**
 * Graceful shutdown, seen from outside the process. `npm start` passes SIGTERM
 * on to node (its script execs node): the gateway stops accepting connections,
 * a request in flight still gets its answer, pooled IMAP connections are logged
 * out (Dovecot logs "Logged out", not a dropped connection), the port is freed
 * and nothing of the process group is left. A request that outlasts
 * SHUTDOWN_GRACE_MS has its connection closed and the process still exits.
 *
 * The request in flight is a login to a loopback server that accepts and never
 * greets: the gateway waits for its upstream timeout (a fault Dovecot will not
 * produce on demand).
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { request } from 'node:http'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { testEnv, type TestEnv } from '../env/shared.ts'
import { startGatewayProcess } from './gateway-process.ts'

interface Answer { status: number, body: string }

/** A request on a connection of its own (no keep-alive pool). */
function post (port: number, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent: false, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let data = ''
      res.on('data', (d: Buffer) => { data += d.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(JSON.stringify(body))
  })
}

/** Resolves true when a new TCP connection is refused, false when it is accepted. */
function refused (port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s: Socket = connect({ host: '127.0.0.1', port })
    s.once('connect', () => { s.destroy(); resolve(false) })
    s.once('error', () => resolve(true))
  })
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

describe('graceful shutdown', { timeout: 120_000 }, () => {
  let env: TestEnv
  let silent: Server
  let silentPort: number
  const sockets = new Set<Socket>()

  before(async () => {
    env = await testEnv()
    silent = createServer((s) => { sockets.add(s); s.on('error', () => {}) })
    await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
    silentPort = (silent.address() as { port: number }).port
  })
  after(async () => {
    for (const s of sockets) s.destroy()
    await new Promise(resolve => silent.close(resolve))
  })

  const gatewayEnv = (more: Record<string, string>): Record<string, string> => ({
    MAIL_ALLOWED_HOSTS: '127.0.0.1',
    MAIL_TLS_CA_FILE: env.dovecot.caFile,
    ...more,
  })
  const silentLogin = (): Record<string, unknown> => ({ protocol: 'imap', host: '127.0.0.1', port: silentPort, security: 'none', username: 'u', password: 'not-used-anywhere' })

  it('npm start: SIGTERM to npm finishes the request in flight, logs out of IMAP, frees the port', async () => {
    const gw = await startGatewayProcess('npm', ['start'], gatewayEnv({ UPSTREAM_TIMEOUT_MS: '3000' }))
    try {
      const user = await env.dovecot.createUser('shutdown')
      const login = await post(gw.port, '/v1/sessions', { protocol: 'imap', host: '127.0.0.1', port: env.dovecot.ports.imaps, security: 'tls', username: user.username, password: user.password })
      assert.equal(login.status, 201, login.body)
      assert.equal(await env.dovecot.connectionCount(user.username), 1, 'the login stays pooled')

      let settled = false
      const inFlight = post(gw.port, '/v1/sessions', silentLogin()).finally(() => { settled = true })
      while (sockets.size === 0) await sleep(20) // the request has reached the upstream
      process.kill(gw.child.pid ?? 0, 'SIGTERM') // npm itself, as a service manager would

      let closed = false
      for (let i = 0; i < 100 && !closed; i++) {
        closed = await refused(gw.port)
        if (!closed) await sleep(20)
      }
      assert.ok(closed, 'new connections are refused')
      assert.equal(settled, false, 'while the request in flight is still running')
      const answer = await inFlight
      assert.equal(answer.status, 504, `the request in flight got its answer: ${answer.body}`)

      assert.equal(await gw.exited, 0, gw.output())
      await env.dovecot.waitForConnections(user.username, n => n === 0)
      const log = await readFile(env.dovecot.info.logFile, 'utf8')
      assert.match(log, new RegExp(`imap\\(${user.username}\\).*Logged out`), 'the pooled connection said LOGOUT')
      assert.ok(await refused(gw.port), 'the port is free')
      const alive = (): boolean => { try { return process.kill(-(gw.child.pid ?? 0), 0) } catch { return false } }
      for (let i = 0; i < 250 && alive(); i++) await sleep(20) // tsx's esbuild helper ends once node is gone
      assert.equal(alive(), false, 'nothing of the process group is left')
    } finally {
      gw.kill()
    }
  })

  it('a request that outlasts SHUTDOWN_GRACE_MS has its connection closed, and the process exits', async () => {
    const gw = await startGatewayProcess(process.execPath, ['--import', 'tsx', 'src/server.ts'], gatewayEnv({ UPSTREAM_TIMEOUT_MS: '60000', SHUTDOWN_GRACE_MS: '300' }))
    try {
      const before = sockets.size
      const inFlight = post(gw.port, '/v1/sessions', silentLogin()).then(() => 'answered', () => 'closed')
      while (sockets.size === before) await sleep(20)
      const started = Date.now()
      gw.child.kill('SIGTERM')
      assert.equal(await inFlight, 'closed')
      assert.equal(await gw.exited, 0, gw.output())
      // generous: the property is that it does not wait out the 60 s upstream timeout
      assert.ok(Date.now() - started < 20_000, `exited after ${Date.now() - started} ms`)
      assert.match(gw.output(), /requests still in flight after the grace period/)
    } finally {
      gw.kill()
    }
  })
})
