import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { describe, it } from 'node:test'
import { imapLogger } from '../../src/backends/imap/connect.ts'
import { createLogger } from '../../src/logger.ts'

function capture (level: string): { lines: string[], logger: ReturnType<typeof createLogger> } {
  const lines: string[] = []
  const sink = new Writable({ write (chunk: Buffer, _enc, cb) { lines.push(chunk.toString()); cb() } })
  return { lines, logger: createLogger(level, sink) }
}

describe('imapflow logger adapter', () => {
  it('tells imapflow that its debug and trace levels are off at production levels (no log strings built)', () => {
    const { logger } = capture('warn')
    const log = imapLogger(logger)
    assert.ok(log !== false)
    assert.deepEqual(['trace', 'debug', 'info', 'warn', 'error'].map(l => log.isLevelEnabled(l)), [false, false, false, true, true])
  })

  it('maps imapflow levels one lower (debug → trace, info → debug) and never passes its trace on', () => {
    const { logger, lines } = capture('trace')
    const log = imapLogger(logger)
    assert.ok(log !== false)
    assert.deepEqual(['trace', 'debug', 'info'].map(l => log.isLevelEnabled(l)), [false, true, true])
    log.trace?.({ msg: 'raw fetch' })
    log.debug?.({ msg: 'd' })
    log.info?.({ msg: 'i' })
    log.warn?.({ msg: 'w' })
    assert.deepEqual(lines.map(l => [JSON.parse(l).level, JSON.parse(l).msg]), [[10, 'd'], [20, 'i'], [40, 'w']])
  })

  it('is off entirely without a logger', () => {
    assert.equal(imapLogger(undefined), false)
  })
})
