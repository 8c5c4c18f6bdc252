import assert from 'node:assert/strict'
import { test } from 'node:test'
import { jsonPieces } from '../../src/http/json-stream.ts'

test('a resource written in pieces is the JSON of JSON.stringify, byte for byte', () => {
  // long strings of every escaping kind, with surrogate pairs across every piece boundary
  const long = (unit: string, n: number): string => unit.repeat(n)
  const resource = {
    id: 'x',
    text: long('\x01', 100_000),
    html: long('a😀', 40_000) + long('"\\\n', 20_000),
    odd: long('é', 16 * 1024 - 1) + '😀' + long('b', 20_000),
    keywords: ['$seen'],
    missing: undefined,
    nothing: null,
    size: 12,
  }
  const pieces = [...jsonPieces(resource)]
  assert.ok(pieces.length > 10, 'long strings are cut into pieces')
  assert.ok(pieces.every(p => Buffer.byteLength(p) <= 6 * 16 * 1024 + 64), 'no piece is larger than one escaped slice')
  assert.equal(pieces.join(''), JSON.stringify(resource))
  assert.deepEqual(JSON.parse(pieces.join('')), JSON.parse(JSON.stringify(resource)))
})
