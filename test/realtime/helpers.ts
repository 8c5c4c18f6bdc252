/**
 * GraphQL subscriptions against the real gateway (Dovecot logins, real tokens)
 * listening on loopback, with the graphql-ws client over `ws`. The bus and the
 * watching are counting stand-ins: the tests publish events themselves and
 * check that every listener and watch handle is given back.
 */
import type { TestContext } from 'node:test'
import { createClient, type Client } from 'graphql-ws'
import WebSocket from 'ws'
import type { BusSubscription, EventBus, MailEvent, Replay } from '../../src/mail/events.ts'
import type { Caller } from '../../src/mail/service-types.ts'
import type { Watching, WatchHandle } from '../../src/mail/watch-port.ts'
import { startGateway, type Gateway } from '../e2e/gateway.ts'

/** An in-process bus that counts its live listeners. */
export class CountingBus implements EventBus {
  readonly listeners = new Map<string, Set<(event: MailEvent) => void>>()
  subscribes = 0

  get live (): number {
    let n = 0
    for (const set of this.listeners.values()) n += set.size
    return n
  }

  async publish (event: MailEvent): Promise<void> {
    for (const listener of [...this.listeners.get(event.accountId) ?? []]) listener(event)
  }

  subscribe (accountId: string, listener: (event: MailEvent) => void): BusSubscription {
    this.subscribes++
    let set = this.listeners.get(accountId)
    if (set === undefined) this.listeners.set(accountId, set = new Set())
    set.add(listener)
    return { close: () => { set.delete(listener) } }
  }

  async replayAfter (): Promise<Replay> { return { found: false } }
  async close (): Promise<void> { this.listeners.clear() }
}

/** Watching that only counts the handles held. */
export class CountingWatching implements Watching {
  held = 0
  acquired = 0
  refuse: Error | null = null

  async acquire (_caller: Caller): Promise<WatchHandle> {
    if (this.refuse !== null) throw this.refuse
    this.held++
    this.acquired++
    let released = false
    return { release: () => { if (!released) { released = true; this.held-- } } }
  }

  async close (): Promise<void> {}
}

export interface Live {
  gateway: Gateway
  bus: CountingBus
  watching: CountingWatching
  url: string
  client: (token: string, opts?: { onClosed?: (code: number, reason: string) => void }) => Client
}

export async function startLive (t: TestContext, env: Record<string, string> = {}, opts: { redis?: boolean } = {}): Promise<Live> {
  const bus = new CountingBus()
  const watching = new CountingWatching()
  const gateway = await startGateway({ realtime: { bus, watching }, env, redis: opts.redis ?? false })
  await gateway.app.listen({ host: '127.0.0.1', port: 0 })
  const address = gateway.app.server.address()
  if (address === null || typeof address === 'string') throw new Error('not listening')
  const url = `ws://127.0.0.1:${address.port}/graphql`
  const clients: Client[] = []
  t.after(async () => {
    for (const c of clients) await c.dispose()
    await gateway.close()
  })
  return {
    gateway,
    bus,
    watching,
    url,
    client (token, opts = {}) {
      const client = createClient({
        url,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${token}` },
        retryAttempts: 0,
        lazy: true,
        on: { closed: (event) => { const e = event as { code: number, reason: string }; opts.onClosed?.(e.code, String(e.reason)) } },
      })
      clients.push(client)
      return client
    },
  }
}

export interface Received {
  events: Array<Record<string, any>>
  errors: unknown[]
  completed: boolean
  stop: () => void
}

/** Subscribes and records what arrives. */
export function collect (client: Client, query: string, variables: Record<string, unknown> = {}): Received {
  const out: Received = { events: [], errors: [], completed: false, stop: () => {} }
  out.stop = client.subscribe<Record<string, any>>({ query, variables }, {
    next: (result) => {
      if (result.errors !== undefined) out.errors.push(...result.errors)
      if (result.data?.mailboxEvents != null) out.events.push(result.data.mailboxEvents)
    },
    error: (err) => { out.errors.push(err) },
    complete: () => { out.completed = true },
  })
  return out
}

let seq = 0
/** An event of the caller's account, as a watcher would publish it. */
export function event (accountId: string, type: MailEvent['type'], mailboxId: string | null, extra: Partial<MailEvent> = {}): MailEvent {
  seq++
  return { id: `ev_test_${seq}`, type, accountId, mailboxId, state: `s${seq}`, at: new Date().toISOString(), ...extra }
}
