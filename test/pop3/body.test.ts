import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BodySink, type BodyOptions } from '../../src/backends/pop3/client/body.ts'
import { GatewayError } from '../../src/mail/errors.ts'

function run (body: Buffer, opts: BodyOptions, at: number[] = []): Buffer {
  const out: Buffer[] = []
  const sink = new BodySink('RETR', opts, c => { out.push(Buffer.from(c)); return true })
  let prev = 0
  for (const cut of [...at, body.length]) { sink.write(body.subarray(prev, cut)); prev = cut }
  sink.end()
  return Buffer.concat(out)
}

const stored = Buffer.from('Subject: x\r\n\r\nno final line break')
const served = Buffer.concat([stored, Buffer.from('\r\n')]) // what RETR delivers (RFC 1939 §3)

test('a CRLF the server added beyond the LIST size is dropped, at every split', () => {
  for (let at = 0; at <= served.length; at++) {
    for (let at2 = at; at2 <= served.length; at2 += 3) {
      assert.deepEqual(run(served, { exactSize: stored.length }, [at, at2]), stored, `splits ${at},${at2}`)
    }
  }
})

test('a message that really ends in CRLF keeps it', () => {
  assert.deepEqual(run(served, { exactSize: served.length }, [served.length - 1]), served)
  const blank = Buffer.from('A: b\r\n\r\n\r\n')
  assert.deepEqual(run(blank, { exactSize: blank.length }), blank)
})

test('without a size nothing is held or dropped', () => {
  assert.deepEqual(run(served, {}, [3]), served)
})

test('strict size: more or fewer bytes than listed is an error', () => {
  const isUpstream = (e: unknown) => e instanceof GatewayError && e.code === 'upstream-unavailable'
  assert.throws(() => run(served, { exactSize: 5, strictSize: true }), isUpstream)
  assert.throws(() => run(stored, { exactSize: stored.length + 10, strictSize: true }), isUpstream)
  assert.deepEqual(run(stored, { exactSize: stored.length + 10 }), stored, 'lenient without strict')
})

test('maxBytes caps the body', () => {
  assert.throws(() => run(served, { maxBytes: 10 }), (e: unknown) => e instanceof GatewayError && /exceeds/.test(e.message))
})
