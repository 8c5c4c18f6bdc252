import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { RedisEventBus } from '../../src/events/redis-bus.ts'
import type { MailEvent } from '../../src/mail/events.ts'
import { scanRedis } from '../cache/scan.ts'
import { startRedis, type RedisEnv } from '../env/redis.ts'
import { testEnv } from '../env/shared.ts'
import { sampleEvent } from './samples.ts'

/** Resolves once `events` holds `n` items (event-driven; the test's timeout bounds it). */
export function collect (): { events: MailEvent[], listener: (e: MailEvent) => void, atLeast: (n: number) => Promise<MailEvent[]> } {
  const events: MailEvent[] = []
  const waiters: Array<() => void> = []
  return {
    events,
    listener: (e) => { events.push(e); for (const w of waiters.splice(0)) w() },
    atLeast: async (n) => {
      while (events.length < n) await new Promise<void>((resolve) => waiters.push(resolve))
      return events
    },
  }
}

const ids = (events: MailEvent[]): string[] => events.map((e) => e.id)

/**
 * Subscribes on `bus`, then publishes probes through `publisher` until one
 * arrives: from then on the subscription is live. Probes are not collected.
 */
async function subscribed (bus: RedisEventBus, publisher: RedisEventBus, account: string): Promise<ReturnType<typeof collect>> {
  const c = collect()
  const state = { live: false }
  bus.subscribe(account, (e) => {
    if (e.mailboxId === 'probe') state.live = true
    else c.listener(e)
  })
  for (let n = 0; !state.live; n++) {
    await publisher.publish(sampleEvent(account, 1_000_000 + n, 'probe'))
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return c
}

describe('redis event bus', () => {
  let url: string
  const secret = randomBytes(32)
  const buses: RedisEventBus[] = []
  const bus = (opts: Partial<ConstructorParameters<typeof RedisEventBus>[0]> = {}): RedisEventBus => {
    const b = new RedisEventBus({ url, secret, ...opts })
    buses.push(b)
    return b
  }

  before(async () => { url = (await testEnv()).redis.url })
  after(async () => { await Promise.all(buses.map((b) => b.close())) })

  it('an event published on instance A reaches a subscriber on instance B, in order', async () => {
    const a = bus()
    const b = bus()
    const account = `acc-${randomBytes(6).toString('hex')}`
    const got = await subscribed(b, a, account)
    for (let n = 0; n < 20; n++) await a.publish(sampleEvent(account, n))
    assert.deepEqual(ids(await got.atLeast(20)), Array.from({ length: 20 }, (_, n) => sampleEvent(account, n).id))
    // another account's events never reach it
    await a.publish(sampleEvent(`${account}-other`, 0))
    await a.publish(sampleEvent(account, 20))
    assert.deepEqual(ids((await got.atLeast(21)).slice(20)), [sampleEvent(account, 20).id])
  })

  it('the same event published by two instances is kept and delivered once', async () => {
    const a = bus()
    const b = bus()
    const account = `acc-${randomBytes(6).toString('hex')}`
    const onA = await subscribed(a, a, account)
    const onB = await subscribed(b, a, account)
    const twice = sampleEvent(account, 1)
    await Promise.all([a.publish(twice), b.publish({ ...twice, at: new Date().toISOString() }), a.publish(twice)])
    await a.publish(sampleEvent(account, 2))
    assert.deepEqual(ids(await onA.atLeast(2)), [twice.id, sampleEvent(account, 2).id])
    assert.deepEqual(ids(await onB.atLeast(2)), [twice.id, sampleEvent(account, 2).id])
    const probes = await b.replayAfter(account, sampleEvent(account, 1_000_000, 'probe').id)
    assert.deepEqual(probes.found && ids(probes.events.filter((e) => e.mailboxId !== 'probe')), [twice.id, sampleEvent(account, 2).id])
  })

  it('replays after an id from any instance; a trimmed or unknown id is not found', async () => {
    const a = bus({ retention: { minEvents: 3, maxEvents: 5 } })
    const b = bus({ retention: { minEvents: 3, maxEvents: 5 } })
    const account = `acc-${randomBytes(6).toString('hex')}`
    for (let n = 0; n < 10; n++) await a.publish(sampleEvent(account, n))
    const replay = await b.replayAfter(account, sampleEvent(account, 6).id)
    assert.deepEqual(replay, { found: true, events: [7, 8, 9].map((n) => sampleEvent(account, n)) })
    assert.deepEqual(await b.replayAfter(account, sampleEvent(account, 4).id), { found: false })
    assert.deepEqual(await b.replayAfter(account, 'ev_unknown'), { found: false })
    assert.deepEqual(await b.replayAfter(`${account}-other`, sampleEvent(account, 8).id), { found: false })
  })

  it('beyond minEvents keeps only what is younger than retainMs (Redis time)', async () => {
    const a = bus({ retention: { minEvents: 3, maxEvents: 100, retainMs: 1 } })
    const account = `acc-${randomBytes(6).toString('hex')}`
    for (let n = 0; n < 8; n++) {
      await a.publish(sampleEvent(account, n))
      await new Promise((resolve) => setTimeout(resolve, 3))
    }
    // every event is older than 1 ms by the next publish: the last three stay, no fewer
    assert.deepEqual(await a.replayAfter(account, sampleEvent(account, 4).id), { found: false })
    const replay = await a.replayAfter(account, sampleEvent(account, 5).id)
    assert.deepEqual(replay.found && ids(replay.events), [6, 7].map((n) => sampleEvent(account, n).id))
  })

  describe('on a Redis of its own', () => {
    let own: RedisEnv
    before(async () => { own = await startRedis() })
    after(async () => { await own.stop() })

    it('stores only sealed events under opaque keys, each with a TTL, in one slot per account', async () => {
      const a = new RedisEventBus({ url: own.url, secret })
      buses.push(a)
      const account = 'alice@mail.example.com'
      const event: MailEvent = { ...sampleEvent(account, 1, 'mailbox-secret-id'), keywords: { m1: ['$secretkeyword'] } }
      await a.publish(event)
      const report = await scanRedis(own.url, [account, 'mailbox-secret-id', '$secretkeyword', event.id, 'message.created'])
      assert.deepEqual(report.problems, [])
      assert.equal(report.keys.length, 2, report.keys.join(', '))
      const tags = new Set(report.keys.map((k) => /\{([^}]+)\}/.exec(k)?.[1]))
      assert.equal(tags.size, 1, 'both keys share the account hash tag')
      assert.deepEqual(await a.replayAfter(account, event.id), { found: true, events: [] })
    })

    it('after its subscription connection drops, a subscriber gets what was published meanwhile', async () => {
      const a = new RedisEventBus({ url: own.url, secret })
      const b = new RedisEventBus({ url: own.url, secret })
      buses.push(a, b)
      const account = `acc-${randomBytes(6).toString('hex')}`
      const got = await subscribed(b, a, account)
      const admin = new Redis(own.url)
      try {
        // the subscriber connection is gone; events published now reach no channel listener
        await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
        for (let n = 0; n < 5; n++) await a.publish(sampleEvent(account, n))
      } finally {
        admin.disconnect()
      }
      assert.deepEqual(ids(await got.atLeast(5)), [0, 1, 2, 3, 4].map((n) => sampleEvent(account, n).id))
      await a.publish(sampleEvent(account, 5))
      assert.deepEqual(ids((await got.atLeast(6)).slice(5)), [sampleEvent(account, 5).id])
      assert.equal(got.events.length, 6, 'nothing delivered twice')
    })
  })
})
