import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ExpiringMap } from '../../src/util/expiring-map.ts'

describe('ExpiringMap (the local revocation list, the pool\'s login failures)', () => {
  it('holds a member until its expiry, then forgets it', () => {
    let now = 1000
    const set = new ExpiringMap<true>(10, () => now)
    set.set('a', true, 500)
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
    const set = new ExpiringMap<true>(3, () => now)
    set.set('short', true, 10)
    set.set('old', true, 1000)
    set.set('newer', true, 1000)
    now = 20
    set.set('new', true, 1000) // room made by dropping the expired member only
    assert.deepEqual(['short', 'old', 'newer', 'new'].map(m => set.has(m)), [false, true, true, true])
    set.set('newest', true, 1000) // still full: the oldest live member goes
    assert.deepEqual(['old', 'newer', 'new', 'newest'].map(m => set.has(m)), [false, true, true, true])
    assert.equal(set.size, 3)
  })

  it('re-adding a member refreshes its expiry and its age', () => {
    let now = 0
    const set = new ExpiringMap<true>(2, () => now)
    set.set('a', true, 100)
    set.set('b', true, 100)
    set.set('a', true, 500)
    set.set('c', true, 100) // evicts b, the oldest now
    now = 200
    assert.deepEqual(['a', 'b', 'c'].map(m => set.has(m)), [true, false, false])
  })
})
