import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { CursorCodec } from '../../src/mail/cursor.ts'
import { accountIdOf, decodeMailboxId, decodeMessageId, encodeMailboxId, encodeMessageId } from '../../src/mail/ids.ts'
import { bearerToken } from '../../src/http/auth.ts'
import { SESSION_LIMITS, validateSessionInput } from '../../src/mail/sessions.ts'
import { MAX_TOKEN_CHARS, TokenSealer } from '../../src/mail/tokens.ts'
import type { ConnectionSettings } from '../../src/mail/types.ts'
import { decodeBase64url } from '../../src/util/base64url.ts'

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** Other spellings Node's decoder reads as the same bytes: padding, `+/`, a stray bit in the last character. */
function respellings (text: string): string[] {
  const out = [`${text}=`, `${text}==`, text.replace(/-/g, '+').replace(/_/g, '/')]
  if (text.length % 4 !== 0) out.push(text.slice(0, -1) + B64URL[B64URL.indexOf(text.at(-1)!) | 1])
  const bytes = Buffer.from(text, 'base64url')
  return out.filter(t => t !== text && Buffer.from(t, 'base64url').equals(bytes))
}

const alice = accountIdOf({ protocol: 'imap', host: 'Mail.Example.com', port: 993, username: 'alice' })
const bob = accountIdOf({ protocol: 'imap', host: 'mail.example.com', port: 993, username: 'bob' })

describe('ids', () => {
  it('account id is stable, host case-insensitive, and includes the port', () => {
    assert.equal(alice, accountIdOf({ protocol: 'imap', host: 'mail.example.com', port: 993, username: 'alice' }))
    assert.notEqual(alice, accountIdOf({ protocol: 'imap', host: 'mail.example.com', port: 143, username: 'alice' }))
    assert.notEqual(alice, accountIdOf({ protocol: 'pop3', host: 'mail.example.com', port: 993, username: 'alice' }))
  })

  it('round-trips IMAP and POP3 message ids and mailbox ids, URL-safe', () => {
    const key = { mailbox: 'Archive/2024 ünïcode', validity: '4294967295', key: '17' }
    const id = encodeMessageId(alice, key)
    assert.match(id, /^[A-Za-z0-9_-]+$/)
    assert.deepEqual(decodeMessageId(alice, 'imap', id), key)
    const pop = { mailbox: 'INBOX', validity: null, key: '000000017a2b3c4d' }
    assert.deepEqual(decodeMessageId(alice, 'pop3', encodeMessageId(alice, pop)), pop)
    assert.equal(decodeMailboxId(alice, encodeMailboxId(alice, 'Sent')), 'Sent')
    assert.equal(encodeMessageId(alice, key), id, 'same message, same id')
  })

  it('ids of long mailbox paths come back (a 350-character CJK path made an id it then refused)', () => {
    const path = 'Archiv/' + '文'.repeat(350)
    const mailbox = encodeMailboxId(alice, path)
    assert.ok(mailbox.length > 1400 && mailbox.length <= 2048, String(mailbox.length))
    assert.equal(decodeMailboxId(alice, mailbox), path)
    const key = { mailbox: path, validity: '7', key: '9' }
    assert.deepEqual(decodeMessageId(alice, 'imap', encodeMessageId(alice, key)), key)
  })

  it('never resolves an id inside another account', () => {
    const id = encodeMessageId(alice, { mailbox: 'INBOX', validity: '1', key: '1' })
    assert.throws(() => decodeMessageId(bob, 'imap', id), { code: 'not-found' })
    assert.throws(() => decodeMailboxId(bob, encodeMailboxId(alice, 'INBOX')), { code: 'not-found' })
  })

  it('rejects malformed ids and ids of the other protocol as bad-request', () => {
    for (const bad of ['', '!!', 'a'.repeat(5000), 'AAAA', Buffer.from([9, 2, 1, 2, 3, 4, 5, 6]).toString('base64url')]) {
      assert.throws(() => decodeMessageId(alice, 'imap', bad), { code: 'bad-request' }, bad.slice(0, 20))
    }
    const pop = encodeMessageId(alice, { mailbox: 'INBOX', validity: null, key: 'x' })
    assert.throws(() => decodeMessageId(alice, 'imap', pop), { code: 'bad-request' })
  })
})

describe('canonical base64url only', () => {
  it('a token, an id and a cursor are refused in any other spelling of the same bytes', () => {
    const sealer = new TokenSealer(randomBytes(32))
    const settings: ConnectionSettings = { protocol: 'imap', host: 'h', port: 993, security: 'tls', username: 'u', password: 'p' }
    let token = ''
    // until the text has a - or _ (to respell as + or /) and a partial last group (stray bits)
    while (!/[-_]/.test(token) || (token.length - 5) % 4 === 0) token = sealer.seal(settings, { mailboxes: true, keywords: true, search: true, move: true, idle: true }, 60).token
    const spellings = respellings(token.slice(5))
    assert.equal(spellings.length, 4)
    assert.equal(sealer.open(token).settings.username, 'u')
    for (const t of spellings) assert.throws(() => sealer.open(`mgw1.${t}`), { code: 'unauthorized' }, t.slice(-8))

    let path = 'INBOX'
    while (!/[-_]/.test(encodeMailboxId(alice, path)) || encodeMailboxId(alice, path).length % 4 === 0) path += '/ü?'
    const id = encodeMailboxId(alice, path)
    assert.equal(decodeMailboxId(alice, id), path)
    for (const t of respellings(id)) assert.throws(() => decodeMailboxId(alice, t), { code: 'bad-request' }, t.slice(-8))

    const codec = new CursorCodec(randomBytes(32))
    const scope = { accountId: alice, mailbox: 'INBOX', filter: {} }
    let position = 1
    while (!/[-_]/.test(codec.encode(scope, String(position))) || codec.encode(scope, String(position)).length % 4 === 0) position++
    const cursor = codec.encode(scope, String(position))
    for (const t of respellings(cursor)) assert.throws(() => codec.decode(scope, t), { code: 'bad-request' }, t.slice(-8))
  })

  it('decodeBase64url: canonical texts only', () => {
    for (const n of [0, 1, 2, 3, 4, 31, 32, 33]) {
      const bytes = randomBytes(n)
      assert.deepEqual(decodeBase64url(bytes.toString('base64url')), bytes)
    }
    for (const bad of ['A', 'AB', 'AA==', 'A+B/', 'AA AA', 'QR', 'QUF']) assert.equal(decodeBase64url(bad), null, bad)
  })
})

describe('cursors', () => {
  const codec = new CursorCodec(randomBytes(32))
  const scope = { accountId: alice, mailbox: 'INBOX', filter: { unread: true } }

  it('round-trips a position within its scope', () => {
    assert.equal(codec.decode(scope, codec.encode(scope, '7:1234')), '7:1234')
  })

  it('a page\'s encoder (scope hashed once) makes the same cursors as encode', () => {
    const encode = codec.encoder(scope)
    assert.deepEqual(['7:1', '7:2'].map(p => codec.decode(scope, encode(p))), ['7:1', '7:2'])
    assert.throws(() => codec.decode({ ...scope, mailbox: 'Sent' }, encode('7:1')), { code: 'bad-request' })
  })

  it('refuses tampered, foreign-scope and foreign-secret cursors', () => {
    const c = codec.encode(scope, '7:1234')
    const flipped = Buffer.from(c, 'base64url')
    flipped.writeUInt8(flipped.readUInt8(flipped.length - 3) ^ 1, flipped.length - 3)
    assert.throws(() => codec.decode(scope, flipped.toString('base64url')), { code: 'bad-request' })
    assert.throws(() => codec.decode({ ...scope, filter: {} }, c), { code: 'bad-request' })
    assert.throws(() => codec.decode({ ...scope, mailbox: 'Sent' }, c), { code: 'bad-request' })
    assert.throws(() => new CursorCodec(randomBytes(32)).decode(scope, c), { code: 'bad-request' })
    assert.throws(() => codec.decode(scope, 'not a cursor'), { code: 'bad-request' })
  })
})

describe('tokens', () => {
  const secret = randomBytes(32)
  const settings: ConnectionSettings = { protocol: 'imap', host: 'h', port: 993, security: 'tls', username: 'u', password: 'hunter2-secret' }
  const caps = { mailboxes: true, keywords: true, search: true, move: true, idle: true }

  it('seals credentials so they do not appear in the token, and opens on another instance', () => {
    const { token, claims } = new TokenSealer(secret).seal(settings, caps, 60)
    assert.ok(!token.includes('hunter2'))
    assert.ok(!Buffer.from(token.slice(5), 'base64url').toString('latin1').includes('hunter2'))
    const opened = new TokenSealer(Buffer.from(secret)).open(token)
    assert.deepEqual(opened.settings, settings)
    assert.equal(opened.jti, claims.jti)
  })

  it('refuses tampered, expired, foreign and malformed tokens as unauthorized', () => {
    const sealer = new TokenSealer(secret)
    const { token } = sealer.seal(settings, caps, 60)
    const raw = Buffer.from(token.slice(5), 'base64url')
    raw.writeUInt8(raw.readUInt8(20) ^ 0x40, 20)
    assert.throws(() => sealer.open('mgw1.' + raw.toString('base64url')), { code: 'unauthorized' })
    assert.throws(() => sealer.open(token, Date.now() + 61_000), { code: 'unauthorized' })
    assert.throws(() => new TokenSealer(randomBytes(32)).open(token), { code: 'unauthorized' })
    assert.throws(() => sealer.open('Bearer nonsense'), { code: 'unauthorized' })
  })
})

describe('session input limits and token size', () => {
  const secret = randomBytes(32)
  const pop3Caps = { mailboxes: false, keywords: false, search: false, move: false, idle: false, top: true, uidl: true, pipelining: true, stls: true, sasl: ['PLAIN', 'XOAUTH2', 'OAUTHBEARER'], expire: 'never' as const, loginDelay: 0 }

  it('the longest input the limits allow seals into a token that opens and fits a bearer header', () => {
    for (const credential of [{ password: 'p'.repeat(SESSION_LIMITS.password) }, { accessToken: 'a'.repeat(SESSION_LIMITS.accessToken) }]) {
      const input = { protocol: 'pop3' as const, host: 'h'.repeat(SESSION_LIMITS.host), username: 'u'.repeat(SESSION_LIMITS.username), ...credential }
      const { settings } = validateSessionInput(input, 86400)
      const sealer = new TokenSealer(secret)
      const { token } = sealer.seal(settings, pop3Caps, 60)
      assert.ok(token.length <= MAX_TOKEN_CHARS, `${token.length} chars`)
      assert.deepEqual(sealer.open(token).settings, settings)
      assert.equal(bearerToken(`Bearer ${token}`), token)
    }
  })

  it('credentials within the character limits but too large once escaped are refused before any login', () => {
    const input = { protocol: 'imap' as const, host: 'h', username: 'u', password: '\u0001'.repeat(SESSION_LIMITS.password) }
    assert.throws(() => validateSessionInput(input, 86400), { code: 'bad-request' })
  })

  it('a sealed token longer than the accepted maximum is never issued', () => {
    const caps = { ...pop3Caps, sasl: Array.from({ length: 2000 }, (_, i) => `MECH-${i}`) }
    const settings: ConnectionSettings = { protocol: 'pop3', host: 'h', port: 995, security: 'tls', username: 'u', password: 'p' }
    assert.throws(() => new TokenSealer(secret).seal(settings, caps, 60), { code: 'upstream-unavailable' })
  })
})
