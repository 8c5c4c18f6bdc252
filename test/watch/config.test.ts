import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadConfig } from '../../src/config.ts'

test('watcher settings: defaults, and what is refused', () => {
  const c = loadConfig({})
  assert.deepEqual([c.watchMaxAccounts, c.watchPollMs, c.pop3PollMs, c.watchGraceMs], [1000, 30_000, 60_000, 30_000])
  const set = loadConfig({ WATCH_MAX_ACCOUNTS: '5', WATCH_POLL_MS: '5000', POP3_POLL_MS: '120000', WATCH_GRACE_MS: '0' })
  assert.deepEqual([set.watchMaxAccounts, set.watchPollMs, set.pop3PollMs, set.watchGraceMs], [5, 5000, 120_000, 0])
  assert.throws(() => loadConfig({ WATCH_MAX_ACCOUNTS: '0' }), /WATCH_MAX_ACCOUNTS must be an integer ≥ 1/)
  assert.throws(() => loadConfig({ WATCH_POLL_MS: '10' }), /WATCH_POLL_MS must be an integer ≥ 1000/)
  assert.throws(() => loadConfig({ POP3_POLL_MS: '999' }), /POP3_POLL_MS must be an integer ≥ 1000/)
  // the contract: a watcher stops within 60 s after its last subscriber
  assert.throws(() => loadConfig({ WATCH_GRACE_MS: '60001' }), /WATCH_GRACE_MS must be at most 60000/)
})
