import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ExpiringSet } from '../../src/cache/expiring-set.ts'

describe('ExpiringSet (the local revocation list)', () => {
  it('holds a member until its expiry, then forgets it', () => {
    let now = 1000
    const set = new ExpiringSet(10, () => now)
    set.add('a', 500)
    assert.equal(set.has('a'), true)
    assert.equal(set.has('b'), false)
    now = 1499
    assert.equal(set.has('a'), true)
    now = 1500
    assert.equal(set.has('a'), false)
    assert.equal(set.size, 0)
  })

  it('when full, frees expired members before evicting the oldest live one', () => {
    let now = 0
    const set = new ExpiringSet(3, () => now)
    set.add('short', 10)
    set.add('old', 1000)
    set.add('newer', 1000)
    now = 20
    set.add('new', 1000) // room made by dropping the expired member only
    assert.deepEqual(['short', 'old', 'newer', 'new'].map(m => set.has(m)), [false, true, true, true])
    set.add('newest', 1000) // still full: the oldest live member goes
    assert.deepEqual(['old', 'newer', 'new', 'newest'].map(m => set.has(m)), [false, true, true, true])
    assert.equal(set.size, 3)
  })

  it('re-adding a member refreshes its expiry and its age', () => {
    let now = 0
    const set = new ExpiringSet(2, () => now)
    set.add('a', 100)
    set.add('b', 100)
    set.add('a', 500)
    set.add('c', 100) // evicts b, the oldest now
    now = 200
    assert.deepEqual(['a', 'b', 'c'].map(m => set.has(m)), [true, false, false])
  })
})
