/**
 * The normaliser's output must not depend on how the bytes arrive: the whole
 * message in one chunk (a cached raw source), tiny chunks, and socket-sized
 * chunks give the same message, and every attachment streams its declared size.
 */
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { it } from 'node:test'
import { randomBytes } from 'node:crypto'
import { extractPart, parseMessage } from '../../src/mail/normalise/index.ts'
import { plainRunEnd, plainRuns } from '../../src/mail/normalise/plain-runs.ts'
import { readCorpus } from '../e2e/direct.ts'

const split = (raw: Buffer, n: number): Readable => {
  const chunks: Buffer[] = []
  for (let i = 0; i < raw.length; i += n) chunks.push(raw.subarray(i, i + n))
  return Readable.from(chunks)
}

it('parse and extraction are independent of chunking, over the whole corpus', async () => {
  const problems: string[] = []
  for (const { file, raw } of readCorpus()) {
    const name = file.split('corpus/')[1]
    const whole = await parseMessage(split(raw, Math.max(1, raw.length)))
    for (const n of [7, 4096]) {
      const parsed = await parseMessage(split(raw, n))
      if (JSON.stringify(parsed) !== JSON.stringify(whole)) problems.push(`${name}: parse differs with ${n}-byte chunks`)
    }
    for (const a of whole.attachments) {
      for (const n of [Math.max(1, raw.length), 13]) {
        let length = 0
        for await (const c of (await extractPart(split(raw, n), a.partId)).stream) length += (c as Buffer).length
        if (length !== a.size) problems.push(`${name} part ${a.partId}: ${length} bytes streamed, ${a.size} declared (${n}-byte chunks)`)
      }
    }
  }
  assert.deepEqual(problems, [])
})

it('plain body runs end before any line that could be a boundary', () => {
  const b = (s: string): Buffer => Buffer.from(s, 'latin1')
  assert.equal(plainRunEnd(b('abc\ndef\nghi'), 0, 11), 8, 'up to the last complete line')
  assert.equal(plainRunEnd(b('abc\ndef\n--x\n'), 0, 13), 8, 'not the "--" line')
  assert.equal(plainRunEnd(b('abc\ndef\n-x\n'), 0, 12), 8, 'not a line starting with "-" either')
  assert.equal(plainRunEnd(b('--x\nabc\n'), 0, 8), 0, 'the line at the start may be one')
  assert.equal(plainRunEnd(b('abc\n\r--x\n'), 0, 9), 9, 'a "--" after a stray CR is body text')
  assert.equal(plainRunEnd(b('abc-def\nx-z\n'), 0, 12), 12, 'a "-" inside a line is plain')
  assert.equal(plainRunEnd(b('abc\ndef\nghi\n'), 0, 6), 4, 'within the limit')
  assert.equal(plainRunEnd(b('abc\n-ef\n'), 0, 4), 4, 'a "-" line just past the limit is left for later')
  assert.equal(plainRunEnd(b('abcdef'), 0, 6), 0, 'no complete line')
})

it('a message full of dash lines parses the same however the bytes arrive, with body runs skipped or read line by line', async () => {
  const data = randomBytes(30_000)
  const b64 = data.toString('base64').replace(/.{76}/g, '$&\r\n')
  const text = ['-', '--', '---', '- item', '--not-the-boundary', ' --b1', '\r--b1 almost', '\r\r--b1', 'x--b1', '-- ', 'sig'].join('\r\n')
  const raw = Buffer.from([
    'From: a@example.com', 'Subject: dashes', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b1"', '',
    'preamble line', '-preamble dash', '--b1', 'Content-Type: text/plain', '', text,
    '--b1', 'Content-Type: multipart/alternative; boundary="-inner-"', '', '---inner-', 'Content-Type: text/html', '', '<p>-x</p>', '--', '---inner---', 'epilogue -', '',
    '--b1', 'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64', 'Content-Disposition: attachment; filename="d.bin"', '', b64,
    '--b1--', 'the end', '',
  ].join('\r\n'), 'latin1')
  const runs = async (skip: boolean, n: number): Promise<{ parsed: string, bytes: Buffer[] }> => {
    plainRuns.skip = skip
    try {
      const parsed = await parseMessage(split(raw, n))
      const bytes: Buffer[] = []
      for (const a of parsed.attachments) {
        const chunks: Buffer[] = []
        for await (const c of (await extractPart(split(raw, n), a.partId)).stream) chunks.push(c as Buffer)
        bytes.push(Buffer.concat(chunks))
      }
      return { parsed: JSON.stringify(parsed), bytes }
    } finally {
      plainRuns.skip = true
    }
  }
  const reference = await runs(false, raw.length)
  assert.ok(reference.bytes.some(x => x.equals(data)), 'the attachment decodes whole')
  assert.match(reference.parsed, /--not-the-boundary/, 'dash lines stay in the text')
  assert.match(reference.parsed, /--b1\\nx--b1/, 'a "--b1" after stray CRs is text, not a boundary')
  for (const n of [raw.length, 1, 5, 77, 1000, 4096]) {
    for (const skip of [false, true]) {
      const got = await runs(skip, n)
      assert.equal(got.parsed, reference.parsed, `parse with ${n}-octet chunks${skip ? ', runs skipped' : ''}`)
      assert.deepEqual(got.bytes, reference.bytes, `attachments with ${n}-octet chunks${skip ? ', runs skipped' : ''}`)
    }
  }
})

it('a part whose body is one empty line reads the same however the bytes arrive (the line break belongs to the boundary)', async () => {
  const raw = Buffer.from('Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n\r\n\r\n--b1\r\n\r\nx\r\n--b1--\r\n', 'latin1')
  for (const n of [raw.length, 4096, 7, 1]) {
    const parsed = await parseMessage(split(raw, n))
    assert.equal(parsed.text, 'x', `${n}-octet chunks`)
  }
})
