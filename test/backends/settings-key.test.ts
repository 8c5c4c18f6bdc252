import assert from 'node:assert/strict'
import { test } from 'node:test'
import { settingsKey } from '../../src/backends/settings-key.ts'
import type { ConnectionSettings } from '../../src/mail/types.ts'

test('settingsKey: one key per account, security and secret; the secret never appears in it', () => {
  const base: ConnectionSettings = { protocol: 'pop3', host: 'Mail.Example.com', port: 995, security: 'tls', username: 'bob', password: 'hunter2-secret' }
  const k = settingsKey(base)
  assert.deepEqual(settingsKey({ ...base, host: 'mail.example.com' }), k)
  for (const other of [{ password: 'other' }, { security: 'starttls' as const }, { port: 110 }, { username: 'alice' }, { protocol: 'imap' as const }]) {
    assert.notEqual(settingsKey({ ...base, ...other }).key, k.key, JSON.stringify(other))
  }
  const { password: _, ...noPassword } = base
  assert.notEqual(settingsKey({ ...noPassword, accessToken: 'hunter2-secret' }).key, k.key, 'a token is not the same secret as an equal password')
  assert.doesNotMatch(k.key, /hunter2/)
})

test('settingsKey is computed once per settings object', () => {
  const settings: ConnectionSettings = { protocol: 'imap', host: 'mail.example.com', port: 993, security: 'tls', username: 'ann', password: 'pw' }
  assert.equal(settingsKey(settings), settingsKey(settings), 'the same answer object')
  assert.notEqual(settingsKey({ ...settings }), settingsKey(settings), 'an equal copy is computed on its own')
  assert.deepEqual(settingsKey({ ...settings }), settingsKey(settings))
})
