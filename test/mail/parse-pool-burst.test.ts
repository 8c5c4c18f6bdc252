/**
 * A burst of large streamed messages through the parse pool holds little: a
 * message waiting for a worker is not read at all, and one being parsed is at
 * most the pool's window ahead of the worker's parser.
 */
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { ParsePool, WINDOW_BYTES } from '../../src/mail/parse-pool/index.ts'

const CHUNK = 64 * 1024
const MESSAGE_BYTES = 8 * 1024 * 1024

interface Reading { active: number, maxActive: number }

/** A message of about MESSAGE_BYTES (a base64 attachment), made only as it is read. */
function largeMessage (n: number, reading: Reading): { stream: Readable, size: () => number } {
  const head = Buffer.from(`Subject: large ${n}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello ${n}\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=big.bin\r\n\r\n`)
  const line = Buffer.from('QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n')
  const tail = Buffer.from('--b--\r\n')
  const body = Buffer.concat(Array.from({ length: Math.floor(CHUNK / line.length) }, () => line))
  let sent = 0
  let started = false
  const stream = new Readable({
    read () {
      if (!started) { started = true; reading.active++; reading.maxActive = Math.max(reading.maxActive, reading.active) }
      const chunk = sent === 0 ? head : sent >= MESSAGE_BYTES ? null : body
      if (chunk === null) {
        reading.active--
        this.push(tail)
        this.push(null)
        sent += tail.length
        return
      }
      sent += chunk.length
      this.push(chunk)
    },
  })
  return { stream, size: () => sent }
}

test('a burst of large streamed messages: queued ones unread, at most the window in flight', { timeout: 180_000 }, async () => {
  const pool = new ParsePool({ size: 1, deadlineMs: 120_000, maxOldGenerationSizeMb: 64 })
  const reading: Reading = { active: 0, maxActive: 0 }
  try {
    const messages = Array.from({ length: 6 }, (_, n) => largeMessage(n, reading))
    const parsed = await Promise.all(messages.map(async m => await pool.parse(m.stream)))
    for (const [n, p] of parsed.entries()) {
      assert.equal(p.subject, `large ${n}`)
      assert.equal(p.text, `hello ${n}`)
      assert.equal(p.size, messages[n]?.size())
      assert.equal(p.attachments.length, 1)
    }
    assert.equal(reading.maxActive, 1, 'only the message being parsed is read')
    const { peakInFlight, replaced } = pool.stats()
    assert.ok(peakInFlight <= WINDOW_BYTES + CHUNK, `in flight at most the window and one chunk, was ${peakInFlight}`)
    assert.equal(replaced, 0)
  } finally {
    await pool.close()
  }
})
