// A tagged NO's response code becomes the catalogue's code, never a blamed server (RFC 5530).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { toGatewayError } from '../../src/backends/imap/errors.ts'
import { refusalOf } from '../../src/backends/imap/wire-names.ts'

/** The shape imapflow rejects a tagged NO with: the parsed response, its section holding the code. */
function refusal (code: string): unknown {
  return { responseStatus: 'NO', response: { tag: 'A1', command: 'NO', attributes: [{ type: 'ATOM', value: '', section: [{ type: 'ATOM', value: code }] }, { type: 'TEXT', value: 'refused' }] } }
}

test('NO [CANNOT], [OVERQUOTA], [ALREADYEXISTS] and [NONEXISTENT] map to their codes', () => {
  const cases: Array<[string, string, number]> = [
    ['CANNOT', 'unsupported', 422],
    ['OVERQUOTA', 'over-quota', 507],
    ['ALREADYEXISTS', 'already-exists', 409],
    ['NONEXISTENT', 'not-found', 404],
  ]
  for (const [wire, code, status] of cases) {
    const err = refusalOf(refusal(wire))
    assert.equal(err?.code, code, wire)
    assert.equal(err?.status, status, wire)
  }
  assert.equal(refusalOf(refusal('SERVERBUG')), null)
  assert.equal(refusalOf({ responseStatus: 'OK' }), null)
})

test('every IMAP failure path maps those codes the same way: a NO [CANNOT] to a STORE or MOVE is 422, not 502', () => {
  assert.equal(toGatewayError(refusal('CANNOT')).code, 'unsupported')
  assert.equal(toGatewayError(refusal('OVERQUOTA')).code, 'over-quota')
  assert.equal(toGatewayError(refusal('SERVERBUG')).code, 'upstream-unavailable')
})
