import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { describe, it } from 'node:test'
import { setImmediate as tick } from 'node:timers/promises'
import { createCache } from '../../src/cache/index.ts'
import type { AccountContext, MailBackend, MessageKey } from '../../src/mail/backend.ts'
import { openRawCached, RAW_CACHE_MAX_BYTES } from '../../src/mail/raw-cache.ts'

const ctx: AccountContext = { accountId: 'acc', settings: { protocol: 'imap', host: 'h', port: 1, security: 'none', username: 'u', password: 'p' } }
const key = (k: string): MessageKey => ({ mailbox: 'INBOX', validity: '1', key: k })
const ok = async (): Promise<void> => {}

function setup (bodies: Record<string, Buffer>) {
  const cache = createCache({ secret: randomBytes(32), memoryBytes: 64 * 1024 * 1024 })
  const port = { forAccount: (id: string) => cache.sealed.forAccount(id), status: cache.status }
  let opened = 0
  const backend = {
    async openRaw (_c: AccountContext, k: MessageKey) {
      opened++
      const body = bodies[k.key]!
      const chunks = []
      for (let i = 0; i < body.length; i += 10_000) chunks.push(body.subarray(i, i + 10_000))
      return { stream: Readable.from(chunks), size: body.length }
    },
  } as unknown as MailBackend
  return { port, backend, opened: () => opened }
}

describe('raw source cache', () => {
  it('serves a small message from the cache after the first read, byte for byte', async () => {
    const small = randomBytes(50_000)
    const s = setup({ a: small })
    assert.ok((await buffer((await openRawCached(s.port, s.backend, ctx, key('a'), ok)).stream)).equals(small))
    await tick()
    const again = await openRawCached(s.port, s.backend, ctx, key('a'), ok)
    assert.ok((await buffer(again.stream)).equals(small))
    assert.equal(again.size, small.length)
    assert.equal(s.opened(), 1)
  })

  it('never caches a large message, nor a download aborted half way', async () => {
    const large = randomBytes(RAW_CACHE_MAX_BYTES + 1)
    const s = setup({ big: large, small: randomBytes(90_000) })
    assert.ok((await buffer((await openRawCached(s.port, s.backend, ctx, key('big'), ok)).stream)).equals(large))
    await openRawCached(s.port, s.backend, ctx, key('big'), ok)
    assert.equal(s.opened(), 2)

    const partial = await openRawCached(s.port, s.backend, ctx, key('small'), ok)
    partial.stream.once('data', () => partial.stream.destroy())
    await new Promise(resolve => partial.stream.once('close', resolve))
    await tick()
    await buffer((await openRawCached(s.port, s.backend, ctx, key('small'), ok)).stream)
    assert.equal(s.opened(), 4, 'the aborted read left nothing behind')
  })

  it('confirms the message upstream before serving a hit, and refuses one that is gone', async () => {
    const s = setup({ a: randomBytes(1000) })
    await buffer((await openRawCached(s.port, s.backend, ctx, key('a'), ok)).stream)
    let confirmed = 0
    await openRawCached(s.port, s.backend, ctx, key('a'), async () => { confirmed++ })
    assert.equal(confirmed, 1)
    const gone = async (): Promise<void> => { throw Object.assign(new Error('gone'), { code: 'not-found' }) }
    await assert.rejects(openRawCached(s.port, s.backend, ctx, key('a'), gone), { code: 'not-found' })
    assert.equal(s.opened(), 1)
  })
})
