// Login attempts for new sessions at a host that accepts and never greets: they
// wait on their own budgets, never in the pool's slots of logged-in accounts.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { LoginBudget } from '../../src/backends/login-budget.ts'
import { GatewayError } from '../../src/mail/errors.ts'
import type { ConnectionSettings } from '../../src/mail/types.ts'
import { startFakeImap, type FakeImapServer } from './fake-imap-server.ts'
import { env, mail, makeBackend, newAccount } from './helpers.ts'

const servers: FakeImapServer[] = []
after(async () => { await Promise.all(servers.map(s => s.close())) })

async function silentPort (): Promise<number> {
  const server = await startFakeImap(() => true, { silent: true })
  servers.push(server)
  return server.port
}

test('attempts at a silent host never take pool slots from a logged-in account', async () => {
  const port = await silentPort()
  // a pool of 4; 12 attempts from 3 client addresses, 4 each, at once
  const budget = new LoginBudget({ perClient: 4, perHost: 12, total: 12, waitMs: 5000 })
  const { backend } = makeBackend({ timeoutMs: 1500, maxTotal: 4, maxPerAccount: 2, loginBudget: budget })
  after(() => backend.close())
  const { user, ctx } = await newAccount('preauth-victim')
  await env.dovecot.deliver(user.username, mail({ subject: 'still here' }))
  let settled = 0
  const attempts = Array.from({ length: 12 }, (_, i) => {
    const s: ConnectionSettings = { protocol: 'imap', host: 'localhost', port, security: 'none', username: `victim-${i}`, password: 'x' }
    return backend.login(s, { client: `198.51.100.${i % 3}` }).finally(() => { settled++ })
  })
  await new Promise(resolve => setTimeout(resolve, 50))
  assert.equal(budget.stats().inFlight, 12)
  const page = await backend.listMessages(ctx, 'INBOX', { limit: 5, filter: {} })
  assert.equal(page.items[0]?.subject, 'still here')
  assert.equal(settled, 0, 'the account was served while every attempt still waited for a greeting')
  assert.ok(backend.stats().total <= 1, 'the attempts held no pool slot')
  const results = await Promise.allSettled(attempts)
  assert.ok(results.every(r => r.status === 'rejected' && r.reason instanceof GatewayError && r.reason.code === 'upstream-timeout'))
})

test('a client over its login budget waits, then gets 429 with Retry-After; another client still gets through', async () => {
  const port = await silentPort()
  const budget = new LoginBudget({ perClient: 2, perHost: 8, total: 8, waitMs: 200 })
  const { backend } = makeBackend({ timeoutMs: 1500, loginBudget: budget })
  after(() => backend.close())
  const silent = (i: number): ConnectionSettings => ({ protocol: 'imap', host: 'localhost', port, security: 'none', username: `u${i}`, password: 'x' })
  const held = [0, 1].map(i => backend.login(silent(i), { client: 'a' }))
  held.forEach(p => p.catch(() => {}))
  await assert.rejects(backend.login(silent(2), { client: 'a' }), (e: unknown) => e instanceof GatewayError && e.code === 'rate-limited' && (e.retryAfter ?? 0) >= 1)
  const { settings } = await newAccount('preauth-other', 'none')
  assert.equal((await backend.login(settings, { client: 'b' })).mailboxes, true)
  await Promise.allSettled(held)
})
