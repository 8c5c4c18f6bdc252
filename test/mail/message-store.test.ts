import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { AccountContext, MessageKey, MessageRecord } from '../../src/mail/backend.ts'
import type { AccountCache, BufferPieces, CachePort } from '../../src/mail/cache-port.ts'
import { MessageStore, decodeEntry, encodeEntry, keyParts } from '../../src/mail/message-store.ts'
import { NORMALISER_VERSION } from '../../src/mail/normalise/index.ts'

function countingCache () {
  const data = new Map<string, Buffer>()
  const calls = { get: 0, set: 0 }
  const port: CachePort = {
    forAccount: (id: string): AccountCache => ({
      getJson: async () => null,
      setJson: async () => {},
      del: async (kind, parts) => { data.delete([id, kind, ...parts].join('|')) },
      getBuffer: async (kind, parts) => { calls.get++; return (data.get([id, kind, ...parts].join('|')) as Buffer) ?? null },
      setBuffer: async (kind, parts, value) => { calls.set++; data.set([id, kind, ...parts].join('|'), Buffer.isBuffer(value) ? Buffer.from(value) : Buffer.concat([...value.pieces()], value.length)) },
      rememberJson: async (_kind, _parts, _ttl, load) => load(),
    }),
    status: () => ({ backend: 'memory', status: 'ok' }),
  }
  return { port, calls, data }
}

const ctx = (accountId: string): AccountContext => ({ accountId, settings: { protocol: 'imap', host: 'h', port: 1, security: 'none', username: 'u', password: 'p' } })
const key: MessageKey = { mailbox: 'INBOX', validity: '1', key: '7' }
const record = { key, text: 'hello', html: null, preview: 'hello', headers: [], attachments: [] } as unknown as MessageRecord

describe('MessageStore', () => {
  it('serves repeated reads from the in-process memo, writing through to the shared cache', async () => {
    const { port, calls } = countingCache()
    const store = new MessageStore(port, 1024 * 1024)
    await store.set(ctx('a'), key, { record, checkedAt: 1, validator: 'v' })
    assert.equal(calls.set, 1)
    for (let i = 0; i < 5; i++) assert.equal((await store.get(ctx('a'), key))?.record.text, 'hello')
    assert.equal(calls.get, 0)
  })

  it('fills the memo from the shared cache, and keeps accounts apart', async () => {
    const { port, calls } = countingCache()
    await new MessageStore(port, 1024 * 1024).set(ctx('a'), key, { record, checkedAt: 1 })
    const other = new MessageStore(port, 1024 * 1024) // another instance
    assert.equal((await other.get(ctx('a'), key))?.record.text, 'hello')
    assert.equal((await other.get(ctx('a'), key))?.record.text, 'hello')
    assert.equal(calls.get, 1)
    assert.equal(await other.get(ctx('b'), key), null)
    await other.del(ctx('a'), key)
    assert.equal(await other.get(ctx('a'), key), null)
  })
})

describe('MessageStore and the normaliser version', () => {
  it('stores parsed messages under a kind that names the normaliser version, so an older parse is not served', async () => {
    const { port, data } = countingCache()
    await new MessageStore(port, 1024 * 1024).set(ctx('a'), key, { record, checkedAt: 1 })
    assert.deepEqual([...data.keys()], [['a', `msg-v${NORMALISER_VERSION}m`, ...keyParts(key)].join('|')])
    // an entry written by the code before versioning (kind "msg") is a miss for a fresh process
    data.set(['a', 'msg', 'INBOX', '1', '8'].join('|'), encodeEntry({ record, checkedAt: 1 }))
    assert.equal(await new MessageStore(port, 1024 * 1024).get(ctx('a'), { ...key, key: '8' }), null)
  })
})

describe('MessageStore entries', () => {
  it('keep bodies as UTF-8: an entry of control characters is the size of its bodies, not six times it', () => {
    const body = '\x01'.repeat(100_000)
    const bytes = encodeEntry({ record: { ...record, text: body, html: `<p>${body}</p>` }, checkedAt: 1, validator: 'v' })
    assert.ok(bytes.length < 2 * 100_000 + 4096, `${bytes.length} bytes`)
    const back = decodeEntry(bytes)
    assert.equal(back?.record.text, body)
    assert.equal(back?.record.html, `<p>${body}</p>`)
    assert.equal(back?.validator, 'v')
  })

  it('round-trip every body exactly, a lone surrogate and a null body included', () => {
    for (const [text, html] of [['é 😀 "\\ \n', null], [null, 'lone \ud800 <b>'], ['', '']] as const) {
      const back = decodeEntry(encodeEntry({ record: { ...record, text, html }, checkedAt: 2 }))
      assert.deepEqual(back, { record: { ...record, text, html }, checkedAt: 2 })
    }
    assert.equal(decodeEntry(Buffer.from('not an entry')), null)
  })

  it('a large record goes to the shared cache in pieces, never as one Buffer, and reads back exactly', async () => {
    const { port } = countingCache()
    const given: Array<Buffer | BufferPieces> = []
    const spy: CachePort = { ...port, forAccount: (id) => { const c = port.forAccount(id); return { ...c, setBuffer: async (...a) => { given.push(a[2]); await c.setBuffer(...a) } } } }
    // surrogate pairs across every piece boundary, and a body of control characters
    const text = 'a' + '\u{1F600}'.repeat(300_000)
    const big = { ...record, text, html: '\x01'.repeat(2 * 1024 * 1024) }
    await new MessageStore(spy, 8).set(ctx('a'), key, { record: big, checkedAt: 3 })
    const value = given[0]
    assert.ok(value !== undefined && !Buffer.isBuffer(value))
    const pieces = [...value.pieces()]
    assert.ok(pieces.every(p => p.length <= 256 * 1024), `largest piece ${Math.max(...pieces.map(p => p.length))}`)
    const back = await new MessageStore(port, 8).get(ctx('a'), key)
    assert.equal(back?.record.text, text)
    assert.equal(back?.record.html, big.html)
  })

  it('concurrent reads of one entry share one shared-cache read', async () => {
    const { port, calls } = countingCache()
    await new MessageStore(port, 1024 * 1024).set(ctx('a'), key, { record, checkedAt: 1 })
    const other = new MessageStore(port, 8) // a memo too small to hold it: every read goes to the shared cache
    const reads = await Promise.all(Array.from({ length: 5 }, async () => await other.get(ctx('a'), key)))
    assert.equal(calls.get, 1)
    assert.ok(reads.every(r => r?.record.text === 'hello'))
  })
})
