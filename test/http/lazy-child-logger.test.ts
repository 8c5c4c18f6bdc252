import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { describe, it } from 'node:test'
import { createLogger, lazyChildLogger } from '../../src/logger.ts'

function capture (level: string): { lines: Array<Record<string, unknown>>, logger: ReturnType<typeof createLogger> } {
  const lines: Array<Record<string, unknown>> = []
  const sink = new Writable({ write (chunk: Buffer, _enc, cb) { lines.push(JSON.parse(chunk.toString())); cb() } })
  return { lines, logger: createLogger(level, sink) }
}

describe('lazyChildLogger (per-request loggers)', () => {
  it('makes no child while nothing is logged at an enabled level', () => {
    const { logger, lines } = capture('warn')
    let children = 0
    const child = logger.child.bind(logger)
    logger.child = ((...args: Parameters<typeof child>) => { children++; return child(...args) }) as typeof logger.child
    const log = lazyChildLogger(logger, { reqId: 'r1' }, {})
    log.info('incoming request')
    log.debug({ a: 1 }, 'detail')
    assert.equal(children, 0)
    assert.equal(log.isLevelEnabled('info'), false)
    log.warn({ code: 'not-found' }, 'request refused')
    log.error('again')
    assert.equal(children, 1)
    assert.deepEqual(lines.map(l => [l.reqId, l.msg]), [['r1', 'request refused'], ['r1', 'again']])
  })

  it('keeps the bindings and the redaction of an eager child', () => {
    const { logger, lines } = capture('info')
    const log = lazyChildLogger(logger, { reqId: 'r2' }, {})
    log.info({ settings: { password: 'hunter2' }, password: 'hunter2' }, 'login')
    log.child({ op: 'x' }).info('nested')
    assert.equal(lines.length, 2)
    assert.doesNotMatch(JSON.stringify(lines), /hunter2/)
    assert.equal(lines[0]!.reqId, 'r2')
    assert.deepEqual([lines[1]!.reqId, lines[1]!.op], ['r2', 'x'])
    assert.equal(log.level, 'info')
  })

  it('a route log level of its own gets its child at once', () => {
    const { logger, lines } = capture('warn')
    const log = lazyChildLogger(logger, { reqId: 'r3' }, { level: 'debug' })
    log.debug('route-level debug')
    assert.deepEqual(lines.map(l => l.msg), ['route-level debug'])
  })
})
