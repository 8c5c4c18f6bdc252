import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createCache } from '../../src/cache/index.ts'
import type { AccountContext, MailBackend, MessageKey } from '../../src/mail/backend.ts'
import { MessageReader } from '../../src/mail/message-reader.ts'
import { record } from './records.ts'

function fakeBackend (store: Map<string, string[]>) {
  const calls = { getMessages: 0, revalidate: 0, keysFetched: 0 }
  const backend = {
    protocol: 'imap',
    async getMessages (_ctx: AccountContext, keys: MessageKey[]) {
      calls.getMessages++
      calls.keysFetched += keys.length
      await sleep(20)
      return keys.map(k => store.has(k.key) ? record(k, store.get(k.key)!) : null)
    },
    async revalidate (_ctx: AccountContext, keys: MessageKey[]) {
      calls.revalidate++
      return keys.map(k => store.has(k.key) ? { keywords: store.get(k.key)!, modseq: null } : null)
    },
  } as unknown as MailBackend
  return { backend, calls }
}

const ctx = (accountId: string): AccountContext => ({ accountId, settings: { protocol: 'imap', host: 'h', port: 1, security: 'none', username: 'u', password: 'p' } })
const key = (uid: string): MessageKey => ({ mailbox: 'INBOX', validity: '1', key: uid })

describe('MessageReader', () => {
  it('batches misses into one backend call and shares concurrent misses (single-flight)', async () => {
    const cache = createCache({ secret: randomBytes(32), memoryBytes: 1e7 })
    const { backend, calls } = fakeBackend(new Map([['1', []], ['2', []], ['3', []]]))
    const reader = new MessageReader({ cache: { forAccount: id => cache.sealed.forAccount(id), status: cache.status }, stalenessMs: 60_000 })
    // the later reads start while the first one's batch is upstream (the backend takes 20 ms)
    const first = reader.read(backend, ctx('a'), [key('1'), key('2'), key('3')])
    await sleep(5)
    const all = await Promise.all([
      first,
      reader.read(backend, ctx('a'), [key('2')]),
      reader.read(backend, ctx('a'), [key('3'), key('1')]),
    ])
    assert.equal(calls.getMessages, 1)
    assert.equal(calls.keysFetched, 3)
    assert.equal(all[2][0]?.text, 'text of 3')
    await reader.read(backend, ctx('a'), [key('1')])
    assert.equal(calls.getMessages, 1, 'second read is a cache hit')
  })

  it('revalidates keywords and existence once older than the staleness bound', async () => {
    const cache = createCache({ secret: randomBytes(32), memoryBytes: 1e7 })
    const server = new Map([['1', ['$seen']]])
    const { backend, calls } = fakeBackend(server)
    const reader = new MessageReader({ cache: { forAccount: id => cache.sealed.forAccount(id), status: cache.status }, stalenessMs: 1000 })
    assert.deepEqual((await reader.readOne(backend, ctx('a'), key('1'))).keywords, ['$seen'])
    server.set('1', ['$seen', '$flagged'])
    assert.deepEqual((await reader.readOne(backend, ctx('a'), key('1'))).keywords, ['$seen'], 'within the bound: cached')
    await sleep(1100)
    assert.deepEqual((await reader.readOne(backend, ctx('a'), key('1'))).keywords, ['$seen', '$flagged'])
    assert.equal(calls.revalidate, 1)
    assert.equal(calls.getMessages, 1, 'content is not refetched')
    server.delete('1')
    await sleep(1100)
    await assert.rejects(reader.readOne(backend, ctx('a'), key('1')), { code: 'not-found' })
  })

  it('a recheck that finds the keywords unchanged keeps the same record and does not rewrite the shared cache', async () => {
    const cache = createCache({ secret: randomBytes(32), memoryBytes: 1e7 })
    const { backend, calls } = fakeBackend(new Map([['1', ['$seen']]]))
    let writes = 0
    const port = { forAccount: (id: string) => { const c = cache.sealed.forAccount(id); return { ...c, setBuffer: async (...a: Parameters<typeof c.setBuffer>) => { writes++; await c.setBuffer(...a) } } }, status: cache.status }
    const reader = new MessageReader({ cache: port, stalenessMs: 30 })
    const first = await reader.readOne(backend, ctx('a'), key('1'))
    assert.equal(writes, 1)
    await sleep(50)
    const again = await reader.readOne(backend, ctx('a'), key('1'))
    assert.equal(calls.revalidate, 1)
    assert.equal(again, first, 'the same record object')
    assert.equal(writes, 1, 'no rewrite of an unchanged entry')
    assert.equal(await reader.readOne(backend, ctx('a'), key('1')), first)
    assert.equal(calls.revalidate, 1, 'the in-process confirmation counts: no second recheck within the bound')
  })

  it('peek answers from this process only: never a shared-cache read', async () => {
    const cache = createCache({ secret: randomBytes(32), memoryBytes: 1e7 })
    const { backend } = fakeBackend(new Map([['1', []]]))
    let reads = 0
    const port = { forAccount: (id: string) => { const c = cache.sealed.forAccount(id); return { ...c, getBuffer: async (...a: Parameters<typeof c.getBuffer>) => { reads++; return await c.getBuffer(...a) } } }, status: cache.status }
    const writer = new MessageReader({ cache: port, stalenessMs: 60_000 })
    const record = await writer.readOne(backend, ctx('a'), key('1'))
    assert.deepEqual(writer.peek(ctx('a'), [key('1'), key('2')]), [record, null])
    const other = new MessageReader({ cache: port, stalenessMs: 60_000 })
    reads = 0
    assert.deepEqual(other.peek(ctx('a'), [key('1')]), [null])
    assert.equal(reads, 0)
  })

  it('keeps accounts apart: one account never reads what another cached', async () => {
    const cache = createCache({ secret: randomBytes(32), memoryBytes: 1e7 })
    const { backend, calls } = fakeBackend(new Map([['1', []]]))
    const reader = new MessageReader({ cache: { forAccount: id => cache.sealed.forAccount(id), status: cache.status }, stalenessMs: 60_000 })
    await reader.read(backend, ctx('alice'), [key('1')])
    assert.deepEqual(await reader.peek(ctx('bob'), [key('1')]), [null])
    await reader.read(backend, ctx('bob'), [key('1')])
    assert.equal(calls.getMessages, 2)
  })

  it('an unchanged mailbox validator confirms stale entries without per-message rechecks', async () => {
    const cache = createCache({ secret: randomBytes(32), memoryBytes: 1e7 })
    const server = new Map([['1', ['$seen']], ['2', []]])
    const { backend, calls } = fakeBackend(server)
    let modseq = 1
    let statusCalls = 0
    const withValidator = Object.assign(backend, { mailboxValidator: async () => { statusCalls++; return `v${modseq}` } })
    const reader = new MessageReader({ cache: { forAccount: id => cache.sealed.forAccount(id), status: cache.status }, stalenessMs: 50 })
    await reader.read(withValidator, ctx('a'), [key('1'), key('2')])
    await sleep(80)
    server.set('1', ['$seen', '$flagged']) // changed, but the validator says nothing changed: trust it
    const same = await reader.read(withValidator, ctx('a'), [key('1'), key('2')])
    assert.equal(calls.revalidate, 0)
    assert.deepEqual(same[0]?.keywords, ['$seen'])
    modseq = 2
    await sleep(80)
    const changed = await reader.read(withValidator, ctx('a'), [key('1'), key('2')])
    assert.equal(calls.revalidate, 1, 'one batched recheck once the validator moved')
    assert.deepEqual(changed[0]?.keywords, ['$seen', '$flagged'])
    assert.equal(calls.getMessages, 1)
    assert.ok(statusCalls <= 3, `${statusCalls} validator calls`)
  })
})
