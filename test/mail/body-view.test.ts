import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  bodyCap, bodyFields, bodyValue, cutPoint, DEFAULT_RESPONSE_BODY_BYTES, jsonStringBytes, MAX_RESPONSE_BODY_BYTES, messageView,
} from '../../src/mail/body-view.ts'
import type { Message } from '../../src/mail/types.ts'

const utf8 = (s: string): number => Buffer.byteLength(s)
const json = (s: string): number => Buffer.byteLength(JSON.stringify(s))

// every kind of character JSON and UTF-8 treat differently
const SAMPLES = ['plain text', 'quote " and \\ backslash', '\x01\x02\x1f controls\n\t\r\b\f', 'é ü ß', '€ 中文', '😀 pairs 👍', 'lone \ud800 high', 'lone \udc00 low', '\u2028\u2029']

describe('body values (maxBodyBytes, RFC 8621 §4.2 maxBodyValueBytes)', () => {
  it('counts JSON bytes exactly as JSON.stringify writes them', () => {
    for (const s of SAMPLES) assert.equal(jsonStringBytes(s), json(s), JSON.stringify(s))
    assert.equal(jsonStringBytes('\x01'.repeat(1000)), 6 * 1000 + 2, 'a control character is six bytes of JSON')
  })

  it('cuts within the UTF-8 and the JSON bound, never inside a surrogate pair', () => {
    const s = SAMPLES.join(' ').repeat(20)
    for (let max = 0; max < 200; max++) {
      const { end } = cutPoint(s, max)
      const kept = s.slice(0, end)
      assert.ok(utf8(kept) <= max, `utf8 ${max}`)
      assert.ok(end === 0 || (kept.charCodeAt(end - 1) & 0xfc00) !== 0xd800 || (s.charCodeAt(end) & 0xfc00) !== 0xdc00, `pair split at ${max}`)
      // the longest such prefix: one more character would not fit
      if (end < s.length) {
        const next = (s.charCodeAt(end) & 0xfc00) === 0xd800 ? 2 : 1
        assert.ok(utf8(s.slice(0, end + next)) > max || next === 2, `not longest at ${max}`)
      }
      const byJson = cutPoint(s, Infinity, max + 2)
      assert.ok(json(s.slice(0, byJson.end)) <= max + 2)
      assert.equal(byJson.json, json(s.slice(0, byJson.end)))
    }
  })

  it('flags a cut value, and a value the normaliser had cut already', () => {
    assert.deepEqual(bodyValue('hello', 100, Infinity, false, false), { value: 'hello', truncated: false, json: NaN })
    assert.equal(bodyValue('hello', 100, Infinity, false, true).truncated, true)
    const cut = bodyValue('hello world', 5, Infinity, false, false)
    assert.equal(cut.value, 'hello')
    assert.equal(cut.truncated, true)
    assert.deepEqual(bodyValue(null, 5, Infinity, true, false), { value: null, truncated: false, json: 4 })
  })

  it('never ends HTML inside a tag or a character reference', () => {
    assert.equal(bodyValue('<p>one</p><a href="x">two</a>', 14, Infinity, true, false).value, '<p>one</p>')
    assert.equal(bodyValue('<p>fish &amp; chips</p>', 11, Infinity, true, false).value, '<p>fish ')
    assert.equal(bodyValue('<p>fish &amp; chips</p>', 14, Infinity, true, false).value, '<p>fish &amp; ')
    const v = bodyValue('<b>x</b>', 6, 100, true, false)
    assert.equal(v.value, '<b>x')
    assert.equal(v.json, json('<b>x'))
  })

  it('maxBodyBytes: default 256 KiB, 1 … 2 MiB, anything else is bad-request', () => {
    assert.equal(bodyCap(undefined), DEFAULT_RESPONSE_BODY_BYTES)
    assert.equal(bodyCap(null), DEFAULT_RESPONSE_BODY_BYTES)
    assert.equal(bodyCap(1), 1)
    assert.equal(bodyCap(MAX_RESPONSE_BODY_BYTES), MAX_RESPONSE_BODY_BYTES)
    for (const bad of [0, -1, 1.5, MAX_RESPONSE_BODY_BYTES + 1]) assert.throws(() => bodyCap(bad), { code: 'bad-request' })
  })

  const message = (text: string | null, html: string | null): Message => ({ text, html, textTruncated: false, htmlTruncated: false } as unknown as Message)

  it('a message nothing cuts is shown as it is (its memoised JSON and ETag serve); a cut one is a copy', () => {
    const m = message('short', '<p>short</p>')
    assert.equal(messageView(m, 100).message, m)
    const cut = messageView(message('x'.repeat(300), null), 100)
    assert.equal(cut.cut, true)
    assert.equal(cut.message.text, 'x'.repeat(100))
    assert.equal(cut.message.textTruncated, true)
    assert.equal(cut.message.htmlTruncated, false)
  })

  it('reads of one shared (frozen) message with one cap share one cut; another cap makes its own', () => {
    const m = Object.freeze(message('x'.repeat(300), '<p>' + 'y'.repeat(300) + '</p>'))
    const first = messageView(m, 100)
    assert.equal(messageView(m, 100).message, first.message)
    assert.equal(messageView(m, 100).cut, true)
    const other = messageView(m, 50)
    assert.notEqual(other.message, first.message)
    assert.equal(other.message.text, 'x'.repeat(50))
    assert.ok(Object.isFrozen(first.message))
    // a message that may still change is never shared
    const open = message('x'.repeat(300), null)
    assert.notEqual(messageView(open, 100).message, messageView(open, 100).message)
  })

  it('two bodies share one JSON allowance, the text first', () => {
    const m = message('\x01'.repeat(100), '\x01'.repeat(100))
    const { fields, json: used } = bodyFields(m, 1000, 700)
    assert.equal(fields.text, m.text)
    assert.equal(fields.textTruncated, false)
    assert.ok(fields.html !== null && fields.html.length < 100)
    assert.equal(fields.htmlTruncated, true)
    assert.ok(used <= 700)
    assert.equal(used, json(fields.text ?? '') + json(fields.html ?? ''))
  })
})
