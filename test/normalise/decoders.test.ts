/**
 * The base64 decoder's output must not depend on where chunks split the text
 * (inside a quantum, inside a CRLF), and its lenient reading (junk skipped,
 * padding mid-stream, base64url) must hold however the text is chunked.
 */
import assert from 'node:assert/strict'
import { randomBytes, randomInt } from 'node:crypto'
import { describe, it } from 'node:test'
import { createDecoder } from '../../src/mail/normalise/decoders.ts'

function decode (chunks: Buffer[]): Buffer {
  const d = createDecoder('base64')
  return Buffer.concat([...chunks.map(c => d.write(c)), d.end()])
}

/** Every way to cut `input` in two, plus cuts every `n` octets. */
function splits (input: Buffer): Buffer[][] {
  const out: Buffer[][] = [[input]]
  for (let i = 1; i < input.length; i++) out.push([input.subarray(0, i), input.subarray(i)])
  for (const n of [1, 2, 3, 5, 77]) {
    const chunks: Buffer[] = []
    for (let i = 0; i < input.length; i += n) chunks.push(input.subarray(i, i + n))
    out.push(chunks)
  }
  return out
}

const mimeLines = (data: Buffer): Buffer => Buffer.from(data.toString('base64').replace(/.{76}/g, '$&\r\n'))

describe('base64 decoder', () => {
  it('decodes MIME-wrapped base64 exactly, however it is chunked', () => {
    for (const size of [0, 1, 2, 3, 56, 57, 58, 300]) {
      const data = randomBytes(size)
      for (const chunks of splits(mimeLines(data))) assert.deepEqual(decode(chunks), data, `${size} octets in ${chunks.length} chunks`)
    }
  })

  it('reads junk, padding in the middle and base64url leniently, however it is chunked', () => {
    const cases: Array<[string, Buffer]> = [
      ['SGVs!bG8g\r\nd29y\tbGQ=', Buffer.from('Hello world')],
      ['SGk=SGk=', Buffer.from('HiHi')],
      ['SGk=\r\nSGVsbG8=\r\n', Buffer.from('HiHello')],
      ['-_-_', Buffer.from([0xfb, 0xff, 0xbf])],
      ['QUJD\r\nREVG\r\nRw', Buffer.from('ABCDEFG')], // unpadded end
    ]
    for (const [text, want] of cases) {
      for (const chunks of splits(Buffer.from(text))) {
        assert.deepEqual(decode(chunks), want, `${JSON.stringify(text)} in ${chunks.length} chunks`)
      }
    }
  })

  it('junk in some lines and not in others costs no bit', () => {
    const data = randomBytes(1000)
    const text = mimeLines(data).toString('latin1')
    // a junk character in every third line
    const lines = text.split('\r\n').map((l, i) => i % 3 === 1 ? `${l.slice(0, 10)}*${l.slice(10)}` : l)
    const input = Buffer.from(lines.join('\r\n'), 'latin1')
    for (const n of [13, 78, 80, 100, 1000]) {
      const chunks: Buffer[] = []
      for (let i = 0; i < input.length; i += n) chunks.push(input.subarray(i, i + n))
      assert.deepEqual(decode(chunks), data, `${n}-octet chunks`)
    }
  })

  it('reads long runs natively with the same result as one character at a time, for any text and chunking', () => {
    // the decoder before the native gear, kept as the reference: one character at a time
    const reference = (input: Buffer): Buffer => {
      const table = new Int16Array(256).fill(-1)
      'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => { table[c.charCodeAt(0)] = i })
      table[0x2d] = 62
      table[0x5f] = 63
      const out: number[] = []
      let bits = 0
      let nbits = 0
      for (const c of input) {
        if (c === 0x3d) { bits = 0; nbits = 0; continue }
        const v = table[c]!
        if (v < 0) continue
        bits = ((bits << 6) | v) & 0xffffff
        nbits += 6
        if (nbits >= 8) { nbits -= 8; out.push((bits >> nbits) & 0xff) }
      }
      return Buffer.from(out)
    }
    const noise = ['=', '==', '*', ' ', '\t', '\r', '\n', '\r\n', '-', '_', '\u00e9', '!', '=\r\n']
    for (let round = 0; round < 300; round++) {
      const lineEnd = round % 3 === 0 ? '\n' : '\r\n'
      let text = randomBytes(randomInt(0, 6000)).toString(round % 5 === 0 ? 'base64url' : 'base64').replace(/.{76}/g, `$&${lineEnd}`)
      // from clean text (most rounds) to text with a few stray characters anywhere
      for (let n = round % 4 === 0 ? 0 : randomInt(0, 8); n > 0; n--) {
        const at = randomInt(0, text.length + 1)
        text = text.slice(0, at) + noise[randomInt(0, noise.length)]! + text.slice(at)
      }
      const input = Buffer.from(text, 'latin1')
      const chunks: Buffer[] = []
      for (let i = 0; i < input.length;) {
        const n = randomInt(1, round % 2 === 0 ? 2500 : 700)
        chunks.push(input.subarray(i, i + n))
        i += n
      }
      assert.deepEqual(decode(chunks), reference(input), `round ${round}: ${JSON.stringify(text.slice(0, 60))}… in ${chunks.length} chunks`)
    }
  })
})
