/**
 * A large message is parsed in slices: other work gets the event loop between
 * them, even when the input is in memory and arrives in many small chunks.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { parseMessage } from '../../src/mail/normalise/index.ts'

function bigMessage (): Buffer {
  const b64 = randomBytes(3 * 1024 * 1024).toString('base64').replace(/.{76}/g, '$&\r\n')
  return Buffer.from([
    'From: a@example.com', 'Subject: big', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"', '',
    '--b', 'Content-Type: text/plain', '', 'hello', '--b',
    'Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename="x.bin"', 'Content-Transfer-Encoding: base64', '',
    b64, '--b--', '',
  ].join('\r\n'))
}

test('the event loop turns while a 4 MiB message is parsed, whether it comes as one buffer or in small chunks', async () => {
  const raw = bigMessage()
  const inChunks = (): Readable => Readable.from((function * () { for (let i = 0; i < raw.length; i += 16 * 1024) yield raw.subarray(i, i + 16 * 1024) })())
  for (const [what, input] of [['one buffer', raw], ['16 KiB chunks', inChunks()]] as const) {
    let turns = 0
    let running = true
    const tick = (): void => { if (running) { turns++; setImmediate(tick) } }
    setImmediate(tick)
    const parsed = await parseMessage(input)
    running = false
    assert.equal(parsed.attachments[0]?.filename, 'x.bin', what)
    assert.equal(parsed.text?.trim(), 'hello', what)
    // 4 MiB in slices of at most 1 000 lines or 256 KiB: dozens of turns; without slicing, none or one
    assert.ok(turns >= 10, `${what}: the loop turned ${turns} times during the parse`)
  }
})
