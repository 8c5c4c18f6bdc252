/**
 * Message bodies against the real stack: maxBodyBytes and the truncation flags
 * over REST and GraphQL (the same values on both faces), a large body streamed
 * as JSON, ETags per cut, and the raw download that is always complete.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Message, MessagePage } from '../../src/mail/types.ts'
import { assertSameFields, graphqlMessage } from '../graphql/parity.ts'
import { startGateway, type Gateway } from './gateway.ts'

// 400 000 characters of text (past the 256 KiB default) with a control character and
// a non-ASCII one in every line, and HTML with a tag at every 1 KiB
const line = 'line \x01 é ' + 'x'.repeat(88) + '\r\n'
const TEXT = line.repeat(4000)
const HTML = ('<p>' + 'y'.repeat(1017) + '</p>').repeat(400)
const raw = Buffer.from('From: a@example.com\r\nTo: b@example.com\r\nSubject: long bodies\r\nMIME-Version: 1.0\r\n' +
  'Content-Type: multipart/alternative; boundary=b\r\n\r\n' +
  `--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${TEXT}\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${HTML}\r\n--b--\r\n`)

describe('message bodies: maxBodyBytes, flags, parity, ETags', { timeout: 120_000 }, () => {
  let gw: Gateway
  before(async () => { gw = await startGateway({ redis: true }) })
  after(async () => { await gw?.close() })

  for (const protocol of ['imap', 'pop3'] as const) {
    it(`${protocol}: a body past maxBodyBytes is cut and flagged, the same over REST and GraphQL`, async () => {
      const user = await gw.env.dovecot.createUser(`bodies-${protocol}`)
      await gw.env.dovecot.deliver(user.username, raw)
      const { token } = await gw.login(user, { protocol })
      const inbox = ((await gw.get('/v1/mailboxes', token)).json() as { items: Array<{ id: string, role: string }> }).items.find(m => m.role === 'inbox')!
      const id = ((await gw.get(`/v1/mailboxes/${inbox.id}/messages`, token)).json() as MessagePage).items[0]!.id

      // the default, 256 KiB: streamed, cut on a character, flagged
      const res = await gw.get(`/v1/messages/${id}`, token)
      assert.equal(res.statusCode, 200)
      const m = res.json() as Message
      const whole = TEXT.replace(/\r\n/g, '\n')
      assert.equal(Buffer.byteLength(m.text ?? ''), 256 * 1024)
      assert.ok(whole.startsWith(m.text ?? '-'))
      assert.equal(m.textTruncated, true)
      assert.equal(m.html?.length, 256 * 1024 - (256 * 1024) % 1024, 'HTML ends before the tag it would cut')
      assert.ok(m.html?.endsWith('</p>'))
      assert.equal(m.htmlTruncated, true)

      // as much as the gateway keeps: whole, not flagged
      const all = (await gw.get(`/v1/messages/${id}?maxBodyBytes=2097152`, token)).json() as Message
      assert.equal(all.text, whole)
      assert.equal(all.html, HTML)
      assert.equal(all.textTruncated, false)
      assert.equal(all.htmlTruncated, false)

      // a small cut, and GraphQL's message(id, maxBodyBytes) agrees field for field
      const small = (await gw.get(`/v1/messages/${id}?maxBodyBytes=100`, token)).json() as Message
      assert.equal(small.text, whole.slice(0, Buffer.from(whole).subarray(0, 100).toString().replace(/\uFFFD$/, '').length))
      assertSameFields(small, await graphqlMessage(gw.app, token, id, 100), 'maxBodyBytes=100')
      assertSameFields(m, await graphqlMessage(gw.app, token, id), 'default')

      // the raw download is the whole message
      assert.deepEqual((await gw.get(`/v1/messages/${id}/raw`, token)).rawPayload, raw)

      // out of range: 400, before anything is read
      for (const bad of ['0', '2097153', 'x']) assert.equal((await gw.get(`/v1/messages/${id}?maxBodyBytes=${bad}`, token)).statusCode, 400, bad)
    })
  }

  it('each cut is its own representation: its own ETag, 304 only for its own', async () => {
    const user = await gw.env.dovecot.createUser('bodies-etag')
    await gw.env.dovecot.deliver(user.username, raw)
    const { token } = await gw.login(user)
    const inbox = ((await gw.get('/v1/mailboxes', token)).json() as { items: Array<{ id: string, role: string }> }).items.find(m => m.role === 'inbox')!
    const id = ((await gw.get(`/v1/mailboxes/${inbox.id}/messages`, token)).json() as MessagePage).items[0]!.id
    const tags = new Map<string, string>()
    for (const q of ['', '?maxBodyBytes=100', '?maxBodyBytes=2097152']) tags.set(q, String((await gw.get(`/v1/messages/${id}${q}`, token)).headers.etag))
    assert.equal(new Set(tags.values()).size, 3, [...tags.values()].join(' '))
    for (const [q, tag] of tags) {
      assert.equal((await gw.get(`/v1/messages/${id}${q}`, token, { 'if-none-match': tag })).statusCode, 304, q)
      for (const [other, otherTag] of tags) {
        if (other !== q) assert.equal((await gw.get(`/v1/messages/${id}${q}`, token, { 'if-none-match': otherTag })).statusCode, 200, `${q} with ${other}'s tag`)
      }
    }
  })
})
