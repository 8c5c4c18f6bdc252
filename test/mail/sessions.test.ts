/**
 * The real Sessions (token sealing, the opened-token memo, revocation) over a
 * stand-in backend: a token the memo has seen still expires on time.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import type { MailBackend } from '../../src/mail/backend.ts'
import { Sessions, type RevocationStore } from '../../src/mail/sessions.ts'
import { TokenSealer } from '../../src/mail/tokens.ts'
import type { Capabilities } from '../../src/mail/types.ts'

const CAPS: Capabilities = { mailboxes: true, keywords: true, search: true, move: false, idle: false }

function loginOnly (): MailBackend {
  const refuse = async (): Promise<never> => { throw new Error('not used') }
  return {
    protocol: 'imap',
    login: async () => CAPS,
    listMailboxes: refuse,
    listMessages: refuse,
    getMessages: refuse,
    openRaw: refuse,
    release: async () => {},
    close: async () => {},
  }
}

function sessions (): Sessions {
  const revoked = new Set<string>()
  const revocations: RevocationStore = {
    revoke: async (id) => { revoked.add(id) },
    isRevoked: async (id) => revoked.has(id),
  }
  const backend = loginOnly()
  return new Sessions({ imap: backend, pop3: backend }, new TokenSealer(randomBytes(32)), revocations, 86400)
}

const input = { protocol: 'imap' as const, host: 'mail.example.com', username: 'ann', password: 'pw', ttl: 1 }

test('a token the gateway has opened before still expires on time', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-01-01T00:00:00Z') })
  const s = sessions()
  const { token, expiresAt } = await s.create(input)
  assert.equal(expiresAt, '2026-01-01T00:00:01.000Z')
  // opened twice within its lifetime: the second time from the memo
  assert.equal((await s.authenticate(token)).account.username, 'ann')
  t.mock.timers.tick(999)
  assert.equal((await s.authenticate(token)).account.username, 'ann')
  t.mock.timers.tick(1)
  await assert.rejects(s.authenticate(token), { code: 'unauthorized', message: 'token expired' })
  // and stays refused
  t.mock.timers.tick(60_000)
  await assert.rejects(s.authenticate(token), { code: 'unauthorized' })
})

test('a token first opened after its expiry is refused too', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-01-01T00:00:00Z') })
  const s = sessions()
  const { token } = await s.create(input)
  t.mock.timers.tick(1000)
  await assert.rejects(s.authenticate(token), { code: 'unauthorized', message: 'token expired' })
})

test('a revoked token is refused although the memo holds it', async () => {
  const s = sessions()
  const { token } = await s.create(input)
  const caller = await s.authenticate(token)
  await s.revoke(caller)
  await assert.rejects(s.authenticate(token), { code: 'unauthorized', message: 'token revoked' })
})

test('a token whose revocation cannot be checked is refused with 503 unavailable, not served', async () => {
  const backend = loginOnly()
  const unreachable: RevocationStore = {
    revoke: async () => {},
    isRevoked: async () => { throw new Error('redis is not connected') },
  }
  const s = new Sessions({ imap: backend, pop3: backend }, new TokenSealer(randomBytes(32)), unreachable, 86400)
  const { token } = await s.create({ ...input, ttl: 60 })
  await assert.rejects(s.authenticate(token), { code: 'unavailable' })
})
