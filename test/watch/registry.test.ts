// The watcher registry without a mail server: a backend with no watch connection (so the
// watchers poll, as for POP3) and a scripted change source.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { MailBackend } from '../../src/mail/backend.ts'
import { isGatewayError } from '../../src/mail/errors.ts'
import { LocalLeases } from '../../src/mail/lease-port.ts'
import type { ChangeSource } from '../../src/mail/watch-source.ts'
import { callerFor, Recorder, rig } from './helpers.ts'

const pollingBackend = { protocol: 'pop3' } as unknown as MailBackend

function settings (username: string) {
  return { protocol: 'pop3' as const, host: 'localhost', port: 110, security: 'none' as const, username, password: 'p' }
}

/** A mailbox whose state is a counter: every `changes` after bump() reports one new message. */
function counterSource () {
  let n = 0
  const calls = { state: 0, changes: 0 }
  const source: ChangeSource = {
    state: async () => { calls.state++; return `s${n}` },
    changes: async (_caller, _path, since) => {
      calls.changes++
      const newState = `s${n}`
      const created = since === newState ? [] : [`m${n}`]
      return { kind: 'changes', changes: { oldState: since, newState, hasMoreChanges: false, created, updated: [], destroyed: [] } }
    },
  }
  return { source, calls, bump: () => { n++ } }
}

describe('watcher registry', () => {
  it('caps watched accounts (429), frees the slot after the last release and the grace period', async () => {
    const { source } = counterSource()
    const { watchers } = rig(pollingBackend, source, { maxAccounts: 1, graceMs: 200 })
    const a = await watchers.acquire(callerFor(settings('a')))
    const again = await watchers.acquire(callerFor(settings('a')))
    await assert.rejects(watchers.acquire(callerFor(settings('b'))), (err) => isGatewayError(err) && err.code === 'rate-limited' && err.status === 429)
    a.release()
    again.release()
    // within the grace period the account is still watched
    assert.equal(watchers.size, 1)
    await new Promise((resolve) => setTimeout(resolve, 600))
    assert.equal(watchers.size, 0)
    const b = await watchers.acquire(callerFor(settings('b')))
    b.release()
    await watchers.close()
    await assert.rejects(watchers.acquire(callerFor(settings('c'))), (err) => isGatewayError(err) && err.code === 'unavailable')
  })

  it('polls where the backend has no watch connection, not faster than LOGIN-DELAY', async () => {
    const { source, calls, bump } = counterSource()
    const { watchers, bus } = rig(pollingBackend, source, { pop3PollMs: 100 })
    const caller = callerFor(settings('slow'), { loginDelay: 2 })
    const seen = new Recorder(bus, caller.account.id)
    const handle = await watchers.acquire(caller)
    try {
      await seen.until(() => calls.state > 0, 'the first state', 5000)
      bump()
      await seen.until(() => seen.of('message.created').length === 1, 'message.created', 10_000)
      const polls = calls.changes
      await new Promise((resolve) => setTimeout(resolve, 1500))
      // with POP3_POLL_MS 100 and no LOGIN-DELAY this would be ~15 polls
      assert.ok(calls.changes - polls <= 1, `polled ${calls.changes - polls} times in 1.5 s under a 2 s LOGIN-DELAY`)
    } finally {
      handle.release()
      await watchers.close()
    }
  })

  it('only the lease holder watches; another instance takes over when it is released', async () => {
    const { source, calls } = counterSource()
    const leases = new LocalLeases()
    const caller = callerFor(settings('leased'))
    const other = await leases.tryAcquire(`watch:${caller.account.id}`)
    assert.ok(other !== null)
    const { watchers, bus } = rig(pollingBackend, source, { leases, leaseTtlMs: 300, pop3PollMs: 100 })
    const seen = new Recorder(bus, caller.account.id)
    const handle = await watchers.acquire(caller)
    try {
      await new Promise((resolve) => setTimeout(resolve, 500))
      assert.equal(calls.state + calls.changes, 0, 'no upstream work without the lease')
      await other.release()
      await seen.until(() => calls.state > 0, 'the takeover', 5000)
    } finally {
      handle.release()
      await watchers.close()
    }
    // stopping gave the lease up
    assert.ok(await leases.tryAcquire(`watch:${caller.account.id}`) !== null)
  })
})
