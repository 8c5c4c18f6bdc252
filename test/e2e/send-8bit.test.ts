/**
 * A server that offers neither 8BITMIME nor SMTPUTF8 (a scripted server: the
 * harness Postfix offers both): UTF-8 text goes out 7-bit clean and decodes to
 * what was sent; 8-bit data the gateway may not re-encode (an 8-bit
 * message/rfc822 attachment, a raw 8-bit body) is refused 422 unsupported
 * before any of it is sent, and so is a message to a non-ASCII address (its
 * To field is 8-bit), never rewritten into another address. A server that
 * offers 8BITMIME gets such a body as it is, with MAIL FROM … BODY=8BITMIME.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { simpleParser } from 'mailparser'
import { startFakeSmtp, type FakeSmtp } from './fake-smtp.ts'
import { startGateway, type Gateway } from './gateway.ts'
import { waitForMail } from './mail-wait.ts'

const TEXT = 'Grüße aus Köln — naïve café, 日本語のテキスト, emoji 🎉\nsecond line ünïcode'
const EIGHT_BIT_BODY = Buffer.from(`From: a@example.test\r\nTo: b@example.test\r\nSubject: raw\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${TEXT.replace(/\n/g, '\r\n')}\r\n`)

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

  // 8-bit octets never go to this server, and a message/rfc822 part may not be
  // re-encoded (RFC 2046 §5.2.1): both are 422 unsupported, no octet of them sent.
  const refusedUnsent = (res: { statusCode: number, body: string }, before: number): void => {
    assert.equal(res.statusCode, 422, res.body)
    const problem = JSON.parse(res.body) as { code: string, detail: string }
    assert.equal(problem.code, 'unsupported')
    assert.match(problem.detail, /8BITMIME/)
    assert.equal(fake.messages.length, before, 'no message reached the server')
  }

  it('a message/rfc822 attachment with 8-bit bytes is refused: 422 unsupported, nothing sent', async () => {
    const before = fake.messages.length
    const res = await send({ from: { email: 'a@example.test' }, to: [{ email: 'b@example.test' }], text: 'see attached', attachments: [{ filename: 'fwd.eml', contentType: 'message/rfc822', content: EIGHT_BIT_BODY.toString('base64') }], saveToSent: false })
    refusedUnsent(res, before)
  })

  it('a raw message/rfc822 body with 8-bit text is refused: 422 unsupported, nothing sent', async () => {
    const before = fake.messages.length
    const res = await gw.app.inject({ method: 'POST', url: '/v1/messages/send?saveToSent=false', headers: { authorization: `Bearer ${token}`, 'content-type': 'message/rfc822' }, payload: EIGHT_BIT_BODY })
    refusedUnsent(res, before)
  })

  it('a 7-bit message/rfc822 attachment still goes, as message/rfc822', async () => {
    const before = fake.messages.length
    const inner = Buffer.from('From: a@example.test\r\nTo: b@example.test\r\nSubject: inner\r\n\r\nplain ascii\r\n')
    const res = await send({ from: { email: 'a@example.test' }, to: [{ email: 'b@example.test' }], text: 'see attached', attachments: [{ filename: 'fwd.eml', contentType: 'message/rfc822', content: inner.toString('base64') }], saveToSent: false })
    assert.equal(res.statusCode, 200, res.body)
    assert.equal(fake.messages.length, before + 1)
    const raw = fake.messages.at(-1)!
    assert.equal(raw.findIndex(b => b > 0x7f), -1)
    assert.match(raw.toString('latin1'), /Content-Type: message\/rfc822/i)
  })

  it('a non-ASCII local part (8-bit To field) is refused before the envelope: 422 unsupported, the address never rewritten', async () => {
    const before = { messages: fake.messages.length, commands: fake.commands.length }
    const res = await send({ from: { email: 'a@example.test' }, to: [{ email: 'jörg@example.test' }], text: 'hi', saveToSent: false })
    refusedUnsent(res, before.messages)
    // nothing mangled or punycoded went to the server in its place
    assert.ok(fake.commands.slice(before.commands).every(c => !/xn--|j.rg|jorg/i.test(c)), fake.commands.join(' | '))
  })
})

describe('sending 8-bit data to a server that offers 8BITMIME', { timeout: 120_000 }, () => {
  let gw: Gateway
  let fake: FakeSmtp
  let token: string

  before(async () => {
    gw = await startGateway()
    fake = await startFakeSmtp({ eightBit: true })
    const user = await gw.env.dovecot.createUser('smtp8bit')
    token = (await gw.login(user, { smtp: { host: '127.0.0.1', port: fake.port, security: 'none' } })).token
  })
  after(async () => { await gw?.close(); await fake?.close() })

  it('a raw 8-bit body goes byte for byte, declared BODY=8BITMIME', async () => {
    const before = fake.messages.length
    const res = await gw.app.inject({ method: 'POST', url: '/v1/messages/send?saveToSent=false', headers: { authorization: `Bearer ${token}`, 'content-type': 'message/rfc822' }, payload: EIGHT_BIT_BODY })
    assert.equal(res.statusCode, 200, res.body)
    assert.equal(fake.messages.length, before + 1)
    const raw = fake.messages.at(-1)!
    const sent = raw.subarray(raw.indexOf('\r\n\r\n'))
    assert.ok(sent.equals(EIGHT_BIT_BODY.subarray(EIGHT_BIT_BODY.indexOf('\r\n\r\n'))), 'the body arrived unchanged')
    assert.match(fake.commands.filter(c => /^MAIL/i.test(c)).at(-1) ?? '', /BODY=8BITMIME/)
  })
})

describe('sending 8-bit data through Postfix (8BITMIME over STARTTLS)', { timeout: 120_000 }, () => {
  let gw: Gateway

  before(async () => { gw = await startGateway() })
  after(async () => { await gw?.close() })

  it('a raw 8-bit body and an 8-bit message/rfc822 attachment reach the INBOX unchanged', async () => {
    const [alice, bob] = await Promise.all([gw.env.dovecot.createUser('eightalice'), gw.env.dovecot.createUser('eightbob')])
    const { token } = await gw.login(alice!, { smtp: gw.smtp() })
    const to = `${bob!.username}@example.test`
    const body = Buffer.from(EIGHT_BIT_BODY.toString('latin1').replace('To: b@example.test', `To: ${to}`), 'latin1')
    const raw = await gw.app.inject({ method: 'POST', url: '/v1/messages/send?saveToSent=false', headers: { authorization: `Bearer ${token}`, 'content-type': 'message/rfc822' }, payload: body })
    assert.equal(raw.statusCode, 200, raw.body)
    const payload = { from: { email: 'a@example.test' }, to: [{ email: to }], subject: 'fwd', text: 'see attached', attachments: [{ filename: 'fwd.eml', contentType: 'message/rfc822', content: EIGHT_BIT_BODY.toString('base64') }], saveToSent: false }
    const attached = await gw.app.inject({ method: 'POST', url: '/v1/messages/send', headers: { authorization: `Bearer ${token}` }, payload })
    assert.equal(attached.statusCode, 200, attached.body)
    const stored = await waitForMail(gw.env.dovecot.ports.imap, bob!, 2)
    const texts = stored.map(m => m.raw.toString('utf8'))
    const tail = `\r\n\r\n${TEXT.replace(/\n/g, '\r\n')}\r\n`
    assert.equal(texts.filter(t => t.includes(tail)).length, 2, 'the 8-bit text arrived as sent in both')
  })
})
