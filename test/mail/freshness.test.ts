import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { createCache } from '../../src/cache/index.ts'
import type { AccountContext, MailBackend, MessageKey } from '../../src/mail/backend.ts'
import type { CachePort } from '../../src/mail/cache-port.ts'
import { Freshness } from '../../src/mail/freshness.ts'
import { MessageReader } from '../../src/mail/message-reader.ts'
import { record } from './records.ts'

const ctx: AccountContext = { accountId: 'a', settings: { protocol: 'imap', host: 'h', port: 1, security: 'none', username: 'u', password: 'p' } }
const key = (uid: string, mailbox = 'INBOX'): MessageKey => ({ mailbox, validity: '1', key: uid })

/** A server whose keyword changes are not seen by any read within the staleness bound unless freshness says so. */
function server (messages: Map<string, string[]>) {
  const calls = { getMessages: 0 }
  const backend = {
    protocol: 'imap',
    async getMessages (_c: AccountContext, keys: MessageKey[]) {
      calls.getMessages++
      return keys.map(k => messages.has(k.key) ? record(k, messages.get(k.key)!) : null)
    },
    async revalidate (_c: AccountContext, keys: MessageKey[]) {
      return keys.map(k => messages.has(k.key) ? { keywords: messages.get(k.key)! } : null)
    },
  } as unknown as MailBackend
  return { backend, calls }
}

/** Two gateway instances: one shared cache, each its own in-process memos. */
function twoInstances () {
  const cache = createCache({ secret: randomBytes(32), memoryBytes: 1e7 })
  const port: CachePort = { forAccount: id => cache.sealed.forAccount(id), status: cache.status }
  const make = () => {
    const freshness = new Freshness(port, 60_000)
    return { freshness, reader: new MessageReader({ cache: port, stalenessMs: 60_000, freshness }) }
  }
  return [make(), make()] as const
}

describe('Freshness', () => {
  it('a keyword change made through one instance is read at once on another that held the message in its memo', async () => {
    const [a, b] = twoInstances()
    const messages = new Map([['1', ['$seen']], ['2', []]])
    const { backend, calls } = server(messages)
    await b.reader.read(backend, ctx, [key('1'), key('2')])
    messages.set('1', ['$seen', '$flagged'])
    await a.freshness.keywordsChanged(ctx, [{ key: key('1'), state: { keywords: ['$seen', '$flagged'], modseq: '7' } }])
    const [one, two] = await b.reader.read(backend, ctx, [key('1'), key('2')])
    assert.deepEqual(one?.keywords, ['$seen', '$flagged'])
    assert.equal(one?.modseq, '7', 'the entry carries the modseq the write answered')
    assert.deepEqual(two?.keywords, [], 'an untouched message stays cached')
    assert.equal(calls.getMessages, 1, 'no refetch: the shared entry was rewritten')
  })

  it('a removed message is gone on every instance, and a retired mailbox voids what was cached under it', async () => {
    const [a, b] = twoInstances()
    const messages = new Map([['1', []], ['2', []]])
    const { backend } = server(messages)
    await b.reader.read(backend, ctx, [key('1'), key('2', 'Old')])
    messages.delete('1')
    messages.delete('2')
    await a.freshness.removed(ctx, [key('1')])
    await a.freshness.mailboxesChanged(ctx, ['Old'])
    assert.deepEqual(await b.reader.read(backend, ctx, [key('1'), key('2', 'Old')]), [null, null])
  })

  it('a read that began before a write does not save its older answer over the write', async () => {
    const [a, b] = twoInstances()
    const messages = new Map([['1', ['$seen']]])
    let release: () => void = () => {}
    const gate = new Promise<void>(resolve => { release = resolve })
    const slow = {
      protocol: 'imap',
      async getMessages (_c: AccountContext, keys: MessageKey[]) {
        const answer = keys.map(k => record(k, messages.get(k.key)!))
        await gate // the write lands while this answer travels
        return answer
      },
    } as unknown as MailBackend
    const reading = b.reader.read(slow, ctx, [key('1')])
    await new Promise(resolve => setImmediate(resolve))
    messages.set('1', [])
    await a.freshness.keywordsChanged(ctx, [{ key: key('1'), state: null }])
    release()
    await reading
    const [after] = await a.reader.read(server(messages).backend, ctx, [key('1')])
    assert.deepEqual(after?.keywords, [])
  })
})
