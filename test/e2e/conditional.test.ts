/**
 * Conditional downloads: a client that already has the raw source or an
 * attachment (If-None-Match with its strong ETag) gets 304 without the
 * gateway opening the message upstream; a message that is gone is still 404.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Message, MessagePage } from '../../src/mail/types.ts'
import { RAW_CACHE_MAX_BYTES } from '../../src/mail/raw-cache.ts'
import { startGateway, type Gateway } from './gateway.ts'

// larger than the raw-source cache, so every full read goes upstream
const blob = Buffer.alloc(RAW_CACHE_MAX_BYTES + 1024, 7).toString('base64').replace(/.{76}/g, '$&\r\n')
const withAttachment = Buffer.from('From: a@example.com\r\nSubject: big\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n' +
  '--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: application/octet-stream\r\n' +
  `Content-Disposition: attachment; filename=blob.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n${blob}\r\n--b--\r\n`)

describe('conditional downloads', { timeout: 60_000 }, () => {
  let gw: Gateway
  before(async () => { gw = await startGateway() })
  after(async () => { await gw?.close() })

  for (const protocol of ['imap', 'pop3'] as const) {
    it(`${protocol}: If-None-Match → 304 with no upstream open`, async () => {
      const user = await gw.env.dovecot.createUser(`cond-${protocol}`)
      await gw.env.dovecot.deliver(user.username, withAttachment)
      const { token } = await gw.login(user, { protocol })
      const inbox = ((await gw.get('/v1/mailboxes', token)).json() as { items: Array<{ id: string, role: string }> }).items.find(m => m.role === 'inbox')!
      const id = ((await gw.get(`/v1/mailboxes/${inbox.id}/messages`, token)).json() as MessagePage).items[0]!.id
      const message = (await gw.get(`/v1/messages/${id}`, token)).json() as Message
      const urls = [`/v1/messages/${id}/raw`, message.attachments[0]!.url]
      const opens = gw.countCalls(protocol, 'openRaw')
      for (const url of urls) {
        const first = await gw.get(url, token)
        assert.equal(first.statusCode, 200)
        const before = opens.length
        assert.ok(before > 0, 'a full read opens the message upstream')
        const again = await gw.get(url, token, { 'if-none-match': String(first.headers.etag) })
        assert.equal(again.statusCode, 304, url)
        assert.equal(again.headers.etag, first.headers.etag)
        assert.equal(opens.length, before, `${url}: nothing opened upstream for a 304`)
        assert.equal((await gw.get(url, token, { 'if-none-match': '"other"' })).statusCode, 200)
      }
    })
  }
})
