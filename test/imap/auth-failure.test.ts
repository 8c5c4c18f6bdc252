// A wrong password costs Dovecot one login, also when the requests come one after another
// (a burst shares one pending login; only the remembered rejection serves the later ones).
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { env, makeBackend, newAccount } from './helpers.ts'

const TTL_MS = 1500
const { backend, attempts } = makeBackend({ authFailureTtlMs: TTL_MS })
after(async () => { await backend.close() })

/** Dovecot's own count of refused passwords, once its log has caught up with `atLeast`. */
async function refusedLogins (username: string, atLeast: number): Promise<number> {
  for (let tries = 0; ; tries++) {
    const n = await env.dovecot.passwordMismatchCount(username)
    if (n >= atLeast || tries >= 250) return n
    await sleep(20)
  }
}

test('sequential requests with a wrong password cost one login; after the memo\'s ttl, one more', async () => {
  const { user, settings } = await newAccount('auth-memo', 'none')
  const ctx = { accountId: 'acct-auth-memo', settings: { ...settings, password: 'not-the-password' } }
  const before = attempts()
  const requests = [
    () => backend.listMailboxes(ctx),
    () => backend.listMessages(ctx, 'INBOX', { limit: 5, filter: {} }),
    () => backend.getMessages(ctx, [{ mailbox: 'INBOX', validity: '1', key: '1' }]),
    () => backend.listMailboxes(ctx),
  ]
  let rejectedAt = 0
  for (const request of requests) {
    await assert.rejects(request(), { code: 'auth-failed' })
    rejectedAt ||= Date.now()
  }
  // the memo's ttl covered the three after the first (so a second login would be the memo's fault)
  assert.ok(Date.now() - rejectedAt < TTL_MS, 'the requests took longer than the memo keeps a rejection')
  assert.equal(attempts() - before, 1)
  assert.equal(await refusedLogins(user.username, 1), 1)

  // the rejection is forgotten after its ttl: the next request is a real login again
  await sleep(TTL_MS + 50)
  await assert.rejects(backend.listMailboxes(ctx), { code: 'auth-failed' })
  await assert.rejects(backend.listMailboxes(ctx), { code: 'auth-failed' })
  assert.equal(attempts() - before, 2)
  assert.equal(await refusedLogins(user.username, 2), 2)
})
