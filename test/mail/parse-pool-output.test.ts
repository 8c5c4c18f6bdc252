/**
 * The parse pool gives what the inline parse gives: every corpus message, held
 * whole and streamed in small chunks, parsed in a worker equals parseMessage's
 * result on the main thread (structured clone included).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { parseMessage } from '../../src/mail/normalise/index.ts'
import { ParsePool } from '../../src/mail/parse-pool/index.ts'
import { CORPUS_DIR, corpusFiles } from '../normalise/corpus-files.ts'

function chunked (raw: Buffer, size: number): Readable {
  const parts: Buffer[] = []
  for (let i = 0; i < raw.length; i += size) parts.push(raw.subarray(i, i + size))
  return Readable.from(parts)
}

test('every corpus message parses the same in a worker as inline, whole and streamed', { timeout: 180_000 }, async () => {
  const pool = new ParsePool({ size: 1, deadlineMs: 60_000 })
  try {
    const files = corpusFiles().filter(f => !f.endsWith('.md') && !f.endsWith('.json'))
    assert.ok(files.length > 100)
    for (const f of files) {
      const raw = readFileSync(join(CORPUS_DIR, f))
      const inline = await parseMessage(raw, { maxBodyBytes: 4096 })
      assert.deepEqual(await pool.parse(raw, { maxBodyBytes: 4096 }), inline, f)
      assert.deepEqual(await pool.parse(chunked(raw, 333), { maxBodyBytes: 4096 }), inline, f)
    }
    assert.equal(pool.stats().replaced, 0)
  } finally {
    await pool.close()
  }
})

test('an input stream that fails rejects with its own error, and the worker parses the next message', { timeout: 60_000 }, async () => {
  const pool = new ParsePool({ size: 1, deadlineMs: 60_000 })
  try {
    const boom = new Error('connection lost')
    const failing = new Readable({ read () { this.push(Buffer.from('Subject: x\r\n\r\nsome body\r\n')); this.destroy(boom) } })
    await assert.rejects(pool.parse(failing), (err) => err === boom)
    assert.equal((await pool.parse(Buffer.from('Subject: next\r\n\r\nb\r\n'))).subject, 'next')
    assert.equal(pool.stats().replaced, 0)
  } finally {
    await pool.close()
  }
})
