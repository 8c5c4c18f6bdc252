import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseIsoDate, parseMessageFilter } from '../../src/mail/filter.ts'

describe('parseMessageFilter (both faces\' list filters)', () => {
  it('keeps what is set, drops null and absent, reads dates as instants', () => {
    assert.deepEqual(parseMessageFilter({ unread: true, flagged: null, subject: 'Hi', since: '2024-08-10', before: '2024-08-11T12:30:00+02:00' }), {
      unread: true,
      subject: 'Hi',
      since: new Date('2024-08-10T00:00:00Z'),
      before: new Date('2024-08-11T10:30:00Z'),
    })
    assert.deepEqual(parseMessageFilter(null), {})
  })

  it('accepts RFC 3339 dates and date-times only, on real calendar days', () => {
    for (const ok of ['2024-02-29', '2024-08-01T12:00:00Z', '2024-08-01t12:00:00z', '2024-08-01 12:00:00.5+01:00']) {
      assert.ok(parseIsoDate(ok) !== null, ok)
    }
    for (const bad of ['2024-02-30', '2023-02-29', '2024-13-01', '2024-08-01T12:00Z', '2024-08-01T24:00:00Z', '2024-08-01T12:00:00', 'yesterday', '1723248000']) {
      assert.equal(parseIsoDate(bad), null, bad)
      assert.throws(() => parseMessageFilter({ since: bad }), { code: 'bad-request' })
    }
    assert.equal(parseIsoDate('2024-08-01t12:00:00z')?.toISOString(), '2024-08-01T12:00:00.000Z')
  })

  it('reads years 0000–0099 as themselves, with their own leap days', () => {
    assert.equal(parseIsoDate('0000-02-29')?.toISOString(), '0000-02-29T00:00:00.000Z')
    assert.equal(parseIsoDate('0096-02-29')?.getUTCFullYear(), 96)
    for (const bad of ['0100-02-29', '0099-02-29', '1900-02-29']) assert.equal(parseIsoDate(bad), null, bad)
  })

  it('search texts are 1–1000 characters', () => {
    assert.throws(() => parseMessageFilter({ from: '' }), { code: 'bad-request' })
    assert.throws(() => parseMessageFilter({ text: 'x'.repeat(1001) }), { code: 'bad-request' })
    assert.equal(parseMessageFilter({ text: 'x'.repeat(1000) }).text?.length, 1000)
  })
})
