/**
 * A header block ends at the first line that is neither a field nor a
 * continuation (RFC 5322 §2.2): what follows is body. Golden outputs of
 * parseMessage for crafted messages (test/golden/header-end/), whole and in
 * 7-byte chunks; list summaries read the same fields from the same bytes.
 * UPDATE_GOLDEN=1 rewrites the goldens (review each against its .eml).
 */
import assert from 'node:assert/strict'
import { existsSync, writeFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { parseHeaderBlock, parseMessage } from '../../src/mail/normalise/index.ts'
import { headerEndCases, readGolden, shown } from './header-end-cases.ts'

const chunks = (raw: Buffer, n: number): Readable => {
  const out: Buffer[] = []
  for (let i = 0; i < raw.length; i += n) out.push(raw.subarray(i, i + n))
  return Readable.from(out)
}

for (const c of headerEndCases()) {
  test(`header end: ${c.name}`, async () => {
    const parsed = await parseMessage(c.raw)
    const actual = shown(parsed)
    if (process.env.UPDATE_GOLDEN === '1') {
      writeFileSync(c.goldenPath, JSON.stringify(actual, null, 2) + '\n')
      return
    }
    assert.ok(existsSync(c.goldenPath), `no golden for ${c.name}: run with UPDATE_GOLDEN=1, then review it`)
    assert.deepStrictEqual(actual, readGolden(c))
    assert.deepStrictEqual(shown(await parseMessage(chunks(c.raw, 7))), actual, 'the same in 7-byte chunks')
    const summary = parseHeaderBlock(c.raw)
    assert.equal(summary.subject, parsed.subject, 'a list summary reads the same subject')
    assert.deepEqual(summary.from, parsed.from)
  })
}
