import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DotDecoder } from '../../src/backends/pop3/client/multiline.ts'
import { stuff } from './fake-server.ts'

/** Feeds `wire` in the given pieces; returns the decoded body and what followed the terminator. */
function decode (pieces: Buffer[]): { body: Buffer, rest: Buffer | undefined } {
  const out: Buffer[] = []
  const d = new DotDecoder(c => out.push(Buffer.from(c)))
  let rest: Buffer | undefined
  for (const p of pieces) {
    // After the terminator, further bytes belong to the next reply.
    rest = rest === undefined ? d.feed(p) : Buffer.concat([rest, p])
  }
  return { body: Buffer.concat(out), rest }
}

const tricky = Buffer.concat([
  Buffer.from('Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\n'.replace('.\r\n', '..\r\n')),
  Buffer.from('.\rcarriage\r\n'),
  Buffer.from([0xe9, 0xe8, 0x00, 0xff, 0x2e, 0x0d, 0x0a]),
  Buffer.from('line\nwith bare LF\n.not a line start\r\n'),
  Buffer.from('last line'),
])

test('every single split point of the wire gives the exact bytes', () => {
  const expected = Buffer.concat([tricky, Buffer.from('\r\n')])
  const wire = Buffer.concat([stuff(tricky), Buffer.from('+OK next')])
  for (let at = 0; at <= wire.length; at++) {
    const { body, rest } = decode([wire.subarray(0, at), wire.subarray(at)])
    assert.deepEqual(body, expected, `split at ${at}`)
    assert.equal(rest?.toString(), '+OK next', `rest after split at ${at}`)
  }
})

test('one byte per read gives the exact bytes', () => {
  const msg = Buffer.from('A: b\r\n\r\n..\r\n.\r\n'.replace('.\r\n', 'x\r\n'))
  const wire = stuff(msg)
  const { body, rest } = decode([...wire].map(b => Buffer.from([b])))
  assert.deepEqual(body, msg)
  assert.deepEqual(rest, Buffer.alloc(0))
})

test('dot-unstuffing: ".." lines, a lone ".." line and "..." lines', () => {
  const wire = Buffer.from('..leading dot\r\n..\r\n...\r\nx\r\n.\r\n')
  const { body } = decode([wire])
  assert.equal(body.toString(), '.leading dot\r\n.\r\n..\r\nx\r\n')
})

test('an empty body right after the status line', () => {
  const { body, rest } = decode([Buffer.from('.\r\n+OK')])
  assert.equal(body.length, 0)
  assert.equal(rest?.toString(), '+OK')
})

test('the final CRLF of the message is kept', () => {
  const { body } = decode([Buffer.from('a\r\nb\r\n.\r\n')])
  assert.equal(body.toString(), 'a\r\nb\r\n')
})

test('8-bit bytes pass through untouched (ISO-8859-1, 150 bytes)', () => {
  const head = Buffer.from('Content-Type: text/plain; charset=iso-8859-1\r\n\r\n', 'latin1')
  const fill = Buffer.alloc(150 - head.length - 2, 0xe9)
  const msg = Buffer.concat([head, fill, Buffer.from('\r\n')])
  assert.equal(msg.length, 150)
  const { body } = decode([stuff(msg)])
  assert.equal(body.length, 150)
  assert.deepEqual(body, msg)
})

test('CRLF.CRLF inside a line is not a terminator unless at a line start', () => {
  const { body, rest } = decode([Buffer.from('x.\r\n.y\r\n.\r\n')])
  assert.equal(body.toString(), 'x.\r\ny\r\n')
  assert.deepEqual(rest, Buffer.alloc(0))
})

test('no terminator yet: nothing returned, body so far delivered', () => {
  const { body, rest } = decode([Buffer.from('abc\r\n.'), Buffer.from('\r')])
  assert.equal(rest, undefined)
  assert.equal(body.toString(), 'abc\r\n')
})

test('an unstuffed ".<CR>x" line from a sloppy server: the dot goes, the CR stays, at any split', () => {
  const wire = Buffer.from('a\r\n.\rx\r\n.\r\r\n.\r\n')
  for (let at = 0; at <= wire.length; at++) {
    const { body } = decode([wire.subarray(0, at), wire.subarray(at)])
    assert.equal(body.toString(), 'a\r\n\rx\r\n\r\r\n', `split at ${at}`)
  }
})
