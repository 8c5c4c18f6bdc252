// Shared set-up of the watcher tests: the IMAP backend against the harness Dovecot, the
// in-process bus with a recording subscriber, and waits on what arrives.
import { randomBytes } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { createCache } from '../../src/cache/index.ts'
import { MemoryEventBus } from '../../src/events/memory-bus.ts'
import type { MailBackend } from '../../src/mail/backend.ts'
import type { CachePort } from '../../src/mail/cache-port.ts'
import type { EventBus, MailEvent, MailEventType } from '../../src/mail/events.ts'
import { Freshness } from '../../src/mail/freshness.ts'
import { LocalLeases, type Leases } from '../../src/mail/lease-port.ts'
import type { Caller } from '../../src/mail/service-types.ts'
import type { Capabilities, ConnectionSettings } from '../../src/mail/types.ts'
import type { ChangeSource } from '../../src/mail/watch-source.ts'
import type { Watching } from '../../src/mail/watch-port.ts'
import { Watchers, type WatchersOptions } from '../../src/mail/watchers.ts'
import { ctxFor } from '../imap/helpers.ts'

export function callerFor (settings: ConnectionSettings, capabilities: Partial<Capabilities> = {}): Caller {
  const ctx = ctxFor(settings)
  return {
    tokenId: randomBytes(8).toString('hex'),
    expiresAt: Date.now() + 3600_000,
    ctx,
    account: { id: ctx.accountId, protocol: settings.protocol, host: settings.host, port: settings.port, username: settings.username, capabilities: capabilities as Capabilities },
  }
}

/** Every event published, in order, and waits on them. */
export class Recorder {
  readonly events: MailEvent[] = []
  #waiters: Array<() => void> = []

  constructor (bus: EventBus, accountId: string) {
    bus.subscribe(accountId, (e) => {
      this.events.push(e)
      for (const w of this.#waiters.splice(0)) w()
    })
  }

  of (type: MailEventType): MailEvent[] {
    return this.events.filter(e => e.type === type)
  }

  /** Resolves when `cond` holds for the events so far (generous, event-driven wait). */
  async until (cond: (events: MailEvent[]) => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!cond(this.events)) {
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(this.events.map(e => [e.type, e.messageIds?.length ?? e.code ?? '']))}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 500))
        this.#waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }

  /** Message ids of every event of `type` so far. */
  ids (type: MailEventType): string[] {
    return this.of(type).flatMap(e => e.messageIds ?? [])
  }
}

/** Resolves once the account's watcher knows the states of `paths` (it is listening) and is idle. */
export async function watching (watchers: Watchers | Watching, accountId: string, paths = ['INBOX'], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const tracker = (watchers as Watchers).watcherOf(accountId)?.tracker
    if (tracker !== undefined && paths.every(p => tracker.stateOf(p) !== null)) return await tracker.idle()
    if (Date.now() > deadline) throw new Error(`the watcher of ${accountId} did not start`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/**
 * IMAP sessions of `username` in IDLE right now, from the process titles of Dovecot's imap
 * processes (the harness sets verbose_proctitle: `<instance>/imap [user ip IDLE]`).
 */
export async function idleCount (username: string): Promise<number> {
  let count = 0
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue
    const title = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
    if (title.includes(`/imap [${username} `) && title.includes(' IDLE]')) count++
  }
  return count
}

/** Samples idleCount() until stop(); the highest count seen. */
export function trackIdle (username: string): { stop: () => Promise<number> } {
  let max = 0
  const state = { running: true }
  const loop = (async () => {
    while (state.running) {
      max = Math.max(max, await idleCount(username))
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })()
  return { stop: async () => { state.running = false; await loop; return max } }
}

export interface Rig {
  watchers: Watchers
  bus: MemoryEventBus
  freshness: Freshness
}

export function rig (backend: MailBackend, source: ChangeSource, over: Partial<WatchersOptions> = {}): Rig {
  const cache = createCache({ secret: randomBytes(32), memoryBytes: 1e7 })
  const port: CachePort = { forAccount: id => cache.sealed.forAccount(id), status: cache.status }
  const freshness = new Freshness(port, 60_000)
  const bus = new MemoryEventBus()
  const leases: Leases = new LocalLeases()
  const watchers = new Watchers({
    backends: { imap: backend, pop3: backend },
    source,
    bus,
    freshness,
    leases,
    maxAccounts: 10,
    pollMs: 1000,
    pop3PollMs: 1000,
    graceMs: 500,
    backoffMs: 200,
    maxBackoffMs: 1000,
    ...over,
  })
  return { watchers, bus, freshness }
}
