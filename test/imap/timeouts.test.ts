// Stalls a real server will not produce on demand, from a scripted loopback fake:
// no greeting, a login that never answers, a command that never answers.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { GatewayError } from '../../src/mail/errors.ts'
import { accountIdOf } from '../../src/mail/ids.ts'
import type { ConnectionSettings } from '../../src/mail/types.ts'
import { startFakeImap, type FakeImapServer, type ImapHandler } from './fake-imap-server.ts'
import { makeBackend } from './helpers.ts'

type Mode = 'silent' | 'stall-login' | 'stall-list'

/** Commands each mode never answers. */
const STALLS: Record<Mode, ImapHandler> = {
  silent: () => true,
  'stall-login': (_tag, verb) => verb === 'LOGIN' || verb === 'AUTHENTICATE',
  // the delimiter LIST while connecting is answered
  'stall-list': (_tag, verb, line) => (verb === 'LIST' || verb === 'LSUB') && !line.endsWith('"" ""'),
}

const servers: FakeImapServer[] = []
const { backend, attempts } = makeBackend({ timeoutMs: 300 })
after(async () => {
  await backend.close()
  await Promise.all(servers.map(s => s.close()))
})

async function settingsFor (mode: Mode): Promise<ConnectionSettings> {
  const server = await startFakeImap(STALLS[mode], { silent: mode === 'silent' })
  servers.push(server)
  return { protocol: 'imap', host: 'localhost', port: server.port, security: 'none', username: 'u', password: 'p' }
}

const isTimeout = (err: unknown): boolean => err instanceof GatewayError && err.code === 'upstream-timeout'

for (const mode of ['silent', 'stall-login'] as const) {
  test(`a server that ${mode === 'silent' ? 'never greets' : 'never answers LOGIN'} → upstream-timeout, quickly`, async () => {
    const settings = await settingsFor(mode)
    const started = Date.now()
    await assert.rejects(backend.login(settings), isTimeout)
    assert.ok(Date.now() - started < 3000, 'bounded by the configured timeout')
  })
}

test('a command that never answers → upstream-timeout, and the connection is not reused', async () => {
  const settings = await settingsFor('stall-list')
  await backend.login(settings)
  const ctx = { accountId: accountIdOf(settings), settings }
  const started = Date.now()
  await assert.rejects(backend.listMailboxes(ctx), isTimeout)
  assert.ok(Date.now() - started < 3000)
  assert.equal(backend.stats().busy, 0)
  const before = attempts()
  await assert.rejects(backend.listMailboxes(ctx), isTimeout)
  assert.equal(attempts(), before + 1, 'the timed-out connection was closed, a new one opened')
})
