import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryEventBus } from '../../src/events/memory-bus.ts'
import type { MailEvent } from '../../src/mail/events.ts'
import { sampleEvent } from './samples.ts'

const ids = (events: MailEvent[]): string[] => events.map((e) => e.id)

describe('memory event bus', () => {
  it('delivers to the account\'s subscribers only, until the subscription is closed', async () => {
    const bus = new MemoryEventBus()
    const a: MailEvent[] = []
    const b: MailEvent[] = []
    const subA = bus.subscribe('acc-a', (e) => a.push(e))
    bus.subscribe('acc-b', (e) => b.push(e))
    await bus.publish(sampleEvent('acc-a', 1))
    await bus.publish(sampleEvent('acc-b', 1))
    subA.close()
    subA.close()
    await bus.publish(sampleEvent('acc-a', 2))
    assert.deepEqual(ids(a), [sampleEvent('acc-a', 1).id])
    assert.deepEqual(ids(b), [sampleEvent('acc-b', 1).id])
    assert.equal(bus.listenerCount('acc-a'), 0)
    await bus.close()
  })

  it('drops an event whose id it holds: neither retained twice nor delivered twice', async () => {
    const bus = new MemoryEventBus()
    const got: MailEvent[] = []
    bus.subscribe('acc', (e) => got.push(e))
    const first = sampleEvent('acc', 1)
    await bus.publish(first)
    await bus.publish({ ...first, at: new Date().toISOString() })
    await bus.publish(sampleEvent('acc', 2))
    assert.deepEqual(ids(got), [first.id, sampleEvent('acc', 2).id])
    assert.equal(bus.stats().events, 2)
  })

  it('replays what followed an id, and says when the id is unknown', async () => {
    const bus = new MemoryEventBus()
    for (let n = 0; n < 5; n++) await bus.publish(sampleEvent('acc', n))
    const replay = await bus.replayAfter('acc', sampleEvent('acc', 1).id)
    assert.deepEqual(replay, { found: true, events: [2, 3, 4].map((n) => sampleEvent('acc', n)) })
    assert.deepEqual(await bus.replayAfter('acc', sampleEvent('acc', 4).id), { found: true, events: [] })
    assert.deepEqual(await bus.replayAfter('acc', 'ev_unknown'), { found: false })
    // an id of another account is never found here
    assert.deepEqual(await bus.replayAfter('other', sampleEvent('acc', 1).id), { found: false })
  })

  it('keeps the last minEvents whatever their age, and younger ones beyond that', async () => {
    let now = 0
    const bus = new MemoryEventBus({ now: () => now, retention: { minEvents: 3, retainMs: 1000 } })
    for (let n = 0; n < 5; n++) await bus.publish(sampleEvent('acc', n))
    // all five are younger than retainMs: kept
    assert.equal(bus.stats().events, 5)
    now = 5000
    await bus.publish(sampleEvent('acc', 5))
    // old ones go, but never below minEvents
    assert.equal(bus.stats().events, 3)
    assert.deepEqual(await bus.replayAfter('acc', sampleEvent('acc', 1).id), { found: false })
    assert.deepEqual(ids((await bus.replayAfter('acc', sampleEvent('acc', 3).id) as { events: MailEvent[] }).events), [4, 5].map((n) => sampleEvent('acc', n).id))
  })

  it('never holds more than maxEvents per account, however young', async () => {
    const bus = new MemoryEventBus({ retention: { minEvents: 2, maxEvents: 4 } })
    for (let n = 0; n < 10; n++) await bus.publish(sampleEvent('acc', n))
    assert.equal(bus.stats().events, 4)
    assert.deepEqual(await bus.replayAfter('acc', sampleEvent('acc', 5).id), { found: false })
    assert.equal((await bus.replayAfter('acc', sampleEvent('acc', 6).id) as { events: MailEvent[] }).events.length, 3)
  })

  it('bounds accounts and bytes: the least recently published accounts give way', async () => {
    const bus = new MemoryEventBus({ retention: { maxAccounts: 3 } })
    for (let a = 0; a < 5; a++) await bus.publish(sampleEvent(`acc${a}`, 0))
    assert.equal(bus.stats().accounts, 3)
    assert.deepEqual(await bus.replayAfter('acc0', sampleEvent('acc0', 0).id), { found: false })
    assert.equal((await bus.replayAfter('acc4', sampleEvent('acc4', 0).id)).found, true)

    const small = new MemoryEventBus({ retention: { maxBytes: 4000 } })
    for (let a = 0; a < 50; a++) {
      for (let n = 0; n < 20; n++) await small.publish(sampleEvent(`acc${a}`, n))
      assert.ok(small.stats().bytes <= 4000, `bytes ${small.stats().bytes} after account ${a}`)
    }
    // the newest events of the newest account are there
    assert.equal((await small.replayAfter('acc49', sampleEvent('acc49', 18).id)).found, true)
    // one huge account alone keeps at least its newest event
    const tiny = new MemoryEventBus({ retention: { maxBytes: 10 } })
    await tiny.publish(sampleEvent('acc', 0))
    await tiny.publish(sampleEvent('acc', 1))
    assert.equal(tiny.stats().events, 1)
    assert.equal((await tiny.replayAfter('acc', sampleEvent('acc', 1).id)).found, true)
  })

  it('a throwing listener does not starve the others', async () => {
    const bus = new MemoryEventBus()
    const got: MailEvent[] = []
    bus.subscribe('acc', () => { throw new Error('bad listener') })
    bus.subscribe('acc', (e) => got.push(e))
    await bus.publish(sampleEvent('acc', 0))
    assert.equal(got.length, 1)
  })

  it('publishes nothing after close', async () => {
    const bus = new MemoryEventBus()
    const got: MailEvent[] = []
    bus.subscribe('acc', (e) => got.push(e))
    await bus.close()
    await bus.publish(sampleEvent('acc', 0))
    assert.equal(got.length, 0)
    assert.deepEqual(await bus.replayAfter('acc', sampleEvent('acc', 0).id), { found: false })
  })
})
