/**
 * The linear header unfolding installed on mailsplit (mailsplit-headers.ts)
 * against mailsplit's own, and a header block that the original needed minutes for.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import mailsplit from 'mailsplit'
import { originalParseHeaders, parseHeaderLines } from '../../src/mail/normalise/mailsplit-headers.ts'
import { parseMessage } from '../../src/mail/normalise/index.ts'
import { CORPUS_DIR, corpusFiles } from './corpus-files.ts'

type Parsed = { lines: unknown, mbox?: string, http?: string }
const Headers = (mailsplit as unknown as { Headers: new (b: Buffer) => Parsed }).Headers

function both (block: Buffer): [Parsed, Parsed] {
  const a = new Headers(block)
  const b = new Headers(block)
  originalParseHeaders.call(a)
  parseHeaderLines.call(b as never)
  const pick = (h: Parsed): Parsed => ({ lines: h.lines, mbox: h.mbox, http: h.http })
  return [pick(a), pick(b)]
}

/** Every header block of a message: the top one and each one after a boundary line. */
function headerBlocks (raw: Buffer): Buffer[] {
  const text = raw.toString('latin1')
  const starts = [0, ...[...text.matchAll(/\n--[^\r\n]+\r?\n/g)].map(m => m.index + m[0].length)]
  return starts.map(start => {
    const end = text.slice(start).search(/\r?\n\r?\n/)
    return Buffer.from(text.slice(start, end === -1 ? undefined : start + end + 2), 'latin1')
  })
}

test('the same lines, mbox and http as mailsplit\'s own parser: every header block of the corpus', () => {
  let blocks = 0
  for (const file of corpusFiles()) {
    for (const block of headerBlocks(readFileSync(join(CORPUS_DIR, file)))) {
      const [original, linear] = both(block)
      assert.deepEqual(linear, original, file)
      blocks++
    }
  }
  assert.ok(blocks > 400, `${blocks} header blocks`)
})

test('the same on edge cases: folding at the start, mbox and POST lines, no colon, bare CR/LF, empty', () => {
  const cases = [
    ' leading: blank\r\nA: 1\r\n\tfolded\r\n',
    'From sender@example.com Sat Jan  3 01:05:34 1996\r\n continued\r\nSubject: x\r\n',
    'from x\nSubject: y\n\n\n',
    'POST /upload HTTP/1.1\r\nHost: h\r\n',
    'no colon here\r\n  more\r\nKey:value\r\n\r\n',
    'A: 1\r\n\r\n \r\nB: 2\r\n',
    'X: \r\n \r\n\t\r\nY: z\r',
    '',
  ]
  for (const c of cases) {
    const [original, linear] = both(Buffer.from(c, 'latin1'))
    assert.deepEqual(linear, original, JSON.stringify(c))
  }
})

test('a header block of 400 000 folded lines parses in linear time (mailsplit\'s own took minutes)', { timeout: 30_000 }, async () => {
  const raw = Buffer.from('From: a@example.com\r\nX-Long: x\r\n' + ' y\r\n'.repeat(400_000) + 'Subject: after\r\n\r\nbody\r\n')
  const parsed = await parseMessage(raw)
  assert.equal(parsed.text?.trim(), 'body')
  assert.equal(parsed.size, raw.length)
})
