/**
 * A server that offers neither 8BITMIME nor SMTPUTF8 (a scripted server: the
 * harness Postfix offers both): UTF-8 text goes out 7-bit clean and decodes to
 * what was sent; a non-ASCII address is refused by that server and the caller
 * gets 422 send-rejected with its reply, the address on the wire unaltered.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { simpleParser } from 'mailparser'
import { startFakeSmtp, type FakeSmtp } from './fake-smtp.ts'
import { startGateway, type Gateway } from './gateway.ts'

const TEXT = 'Grüße aus Köln — naïve café, 日本語のテキスト, emoji 🎉\nsecond line ünïcode'

describe('sending to a server without 8BITMIME or SMTPUTF8', { timeout: 120_000 }, () => {
  let gw: Gateway
  let fake: FakeSmtp
  let token: string

  before(async () => {
    gw = await startGateway()
    fake = await startFakeSmtp({ eightBit: false })
    const user = await gw.env.dovecot.createUser('smtp7bit')
    token = (await gw.login(user, { smtp: { host: '127.0.0.1', port: fake.port, security: 'none' } })).token
  })
  after(async () => { await gw?.close(); await fake?.close() })

  const send = (payload: Record<string, unknown>) => gw.app.inject({ method: 'POST', url: '/v1/messages/send', headers: { authorization: `Bearer ${token}` }, payload })

  it('UTF-8 subject, names and text arrive 7-bit clean and decode to the original', async () => {
    const before = fake.messages.length
    const res = await send({ from: { name: 'Jürgen Ä', email: 'a@example.test' }, to: [{ name: 'Zoë', email: 'b@example.test' }], subject: 'Grüße – 日本', text: TEXT, html: `<p>${TEXT}</p>`, saveToSent: false })
    assert.equal(res.statusCode, 200, res.body)
    assert.equal(fake.messages.length, before + 1)
    const raw = fake.messages.at(-1)!
    const high = raw.findIndex(b => b > 0x7f)
    assert.equal(high, -1, `8-bit octet at ${high}: ${raw.subarray(Math.max(0, high - 40), high + 10).toString('latin1')}`)
    assert.ok(fake.commands.every(c => !/BODY=8BITMIME|SMTPUTF8/.test(c)), fake.commands.join(' | '))
    const parsed = await simpleParser(raw)
    assert.equal(parsed.subject, 'Grüße – 日本')
    assert.equal(parsed.from?.value[0]?.name, 'Jürgen Ä')
    assert.equal(parsed.text?.replace(/\r\n/g, '\n').trim(), TEXT)
    assert.ok(String(parsed.html).includes(TEXT))
  })

  // Not yet: both go out as 8-bit octets to this server (nodemailer labels a message/*
  // part whose bytes it cannot see 8bit, and a raw body is passed through unchanged).
  // Each should be re-encoded or refused with a clear error before DATA.
  const eightBitBody = Buffer.from(`From: a@example.test\r\nTo: b@example.test\r\nSubject: raw\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${TEXT}\r\n`)
  const sevenBitOrRefused = (res: { statusCode: number, body: string }, before: number): void => {
    if (res.statusCode !== 200) { assert.ok(res.statusCode >= 400 && res.statusCode < 500, res.body); return }
    const raw = fake.messages.at(-1)!
    assert.equal(fake.messages.length, before + 1)
    assert.equal(raw.findIndex(b => b > 0x7f), -1, 'an 8-bit octet went to a server without 8BITMIME')
  }

  it('a message/rfc822 attachment with 8-bit bytes goes out 7-bit or is refused', { todo: 'sent as 8bit today' }, async () => {
    const before = fake.messages.length
    const res = await send({ from: { email: 'a@example.test' }, to: [{ email: 'b@example.test' }], text: 'see attached', attachments: [{ filename: 'fwd.eml', contentType: 'message/rfc822', content: eightBitBody.toString('base64') }], saveToSent: false })
    sevenBitOrRefused(res, before)
  })

  it('a raw message/rfc822 body with 8-bit text goes out 7-bit or is refused', { todo: 'passed through as 8bit today' }, async () => {
    const before = fake.messages.length
    const res = await gw.app.inject({ method: 'POST', url: '/v1/messages/send?saveToSent=false', headers: { authorization: `Bearer ${token}`, 'content-type': 'message/rfc822' }, payload: eightBitBody })
    sevenBitOrRefused(res, before)
  })

  it('a non-ASCII local part is refused by the server: 422 send-rejected, the address not rewritten', async () => {
    const before = fake.messages.length
    const res = await send({ from: { email: 'a@example.test' }, to: [{ email: 'jörg@example.test' }], text: 'hi', saveToSent: false })
    assert.equal(res.statusCode, 422, res.body)
    const body = res.json() as { code: string, detail: string, rejected?: Array<{ email: string, reply: string }> }
    assert.equal(body.code, 'send-rejected')
    assert.match(body.detail, /5\.6\.7/)
    assert.equal(fake.messages.length, before, 'nothing was sent')
    // what reached the server is the address as given, not a mangled or punycoded one
    const rcpt = fake.commands.filter(c => /^RCPT/i.test(c)).at(-1) ?? ''
    assert.match(rcpt, /<jörg@example\.test>/, rcpt)
  })
})
