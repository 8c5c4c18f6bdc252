/**
 * The parse pool's failure handling: a worker that dies fails only the parse it
 * was running; a parse that never ends is stopped at the deadline and its worker
 * replaced; the other parses, queued or later, are answered as usual.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isGatewayError } from '../../src/mail/errors.ts'
import { ParsePool } from '../../src/mail/parse-pool/index.ts'

const FAULT_WORKER = new URL('./parse-pool-fault-worker.ts', import.meta.url)

function message (subject: string, fault?: string): Buffer {
  return Buffer.from(`Subject: ${subject}\r\n${fault === undefined ? '' : `X-Test-Fault: ${fault}\r\n`}\r\nbody of ${subject}\r\n`)
}

async function codeOf (p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'resolved'
  } catch (err) {
    return isGatewayError(err) ? err.code : `not a GatewayError: ${String(err)}`
  }
}

for (const fault of ['exit', 'throw', 'oom']) {
  test(`a worker that dies (${fault}) fails only its own parse; the queued ones are parsed by a new worker`, { timeout: 90_000 }, async () => {
    const lost: string[] = []
    const pool = new ParsePool({ size: 1, deadlineMs: 60_000, workerUrl: FAULT_WORKER, maxOldGenerationSizeMb: 32, onLost: r => { lost.push(r) } })
    try {
      const before = pool.parse(message('before'))
      const failing = codeOf(pool.parse(message('crash', fault)))
      const after = [pool.parse(message('after-1')), pool.parse(message('after-2'))]
      assert.equal((await before).subject, 'before')
      assert.equal(await failing, 'internal')
      assert.deepEqual((await Promise.all(after)).map(m => m.subject), ['after-1', 'after-2'])
      assert.equal(pool.stats().replaced, 1)
      assert.equal(pool.stats().workers, 1)
      assert.deepEqual(lost, ['died'])
    } finally {
      await pool.close()
    }
  })
}

test('a parse that never ends is stopped at the deadline with upstream-timeout, and its worker replaced', { timeout: 90_000 }, async () => {
  const lost: string[] = []
  const pool = new ParsePool({ size: 1, deadlineMs: 1500, workerUrl: FAULT_WORKER, onLost: r => { lost.push(r) } })
  try {
    const hung = codeOf(pool.parse(message('hostile', 'hang')))
    const queued = pool.parse(message('queued'))
    assert.equal(await hung, 'upstream-timeout')
    assert.equal((await queued).subject, 'queued')
    assert.equal((await pool.parse(message('later'))).subject, 'later')
    assert.equal(pool.stats().replaced, 1)
    assert.deepEqual(lost, ['deadline'])
  } finally {
    await pool.close()
  }
})

test('two workers: one dying leaves the parse running on the other untouched', { timeout: 90_000 }, async () => {
  const pool = new ParsePool({ size: 2, deadlineMs: 60_000, workerUrl: FAULT_WORKER })
  try {
    const results = await Promise.all([
      codeOf(pool.parse(message('crash', 'exit'))),
      pool.parse(message('beside')).then(m => m.subject),
    ])
    assert.deepEqual(results, ['internal', 'beside'])
  } finally {
    await pool.close()
  }
})
