import { test } from 'node:test'
import assert from 'node:assert/strict'
import { makeSnapshot, pageOf } from '../../src/backends/pop3/snapshot.ts'
import { GatewayError } from '../../src/mail/errors.ts'

const snap = (uids: string[]) => makeSnapshot(uids.map((uid, i) => ({ n: i + 1, uid })), new Map())

test('pages run newest first, keyed on UIDL, and end with next = null', () => {
  const s = snap(['a', 'b', 'c', 'd', 'e'])
  const p1 = pageOf(s, 2)
  assert.deepEqual(p1.items.map(e => e.uid), ['e', 'd'])
  assert.equal(p1.total, 5)
  assert.ok(p1.next !== null)
  const p2 = pageOf(s, 2, p1.next)
  assert.deepEqual(p2.items.map(e => e.uid), ['c', 'b'])
  const p3 = pageOf(s, 2, p2.next ?? undefined)
  assert.deepEqual(p3.items.map(e => e.uid), ['a'])
  assert.equal(p3.next, null)
})

test('new mail in a later session neither duplicates nor skips on the next page', () => {
  const p1 = pageOf(snap(['a', 'b', 'c', 'd']), 2)
  const later = snap(['a', 'b', 'c', 'd', 'new1', 'new2'])
  assert.deepEqual(pageOf(later, 10, p1.next ?? undefined).items.map(e => e.uid), ['b', 'a'])
})

test('a vanished cursor UIDL falls back on its message number: may repeat, never skips', () => {
  const p1 = pageOf(snap(['a', 'b', 'c', 'd', 'e']), 2) // e, d; cursor at d (n=4)
  // d and an older message (b) were deleted by another client.
  const later = snap(['a', 'c', 'e'])
  const p2 = pageOf(later, 10, p1.next ?? undefined)
  const uids = p2.items.map(e => e.uid)
  assert.ok(uids.includes('a') && uids.includes('c'), `older messages kept: ${uids.join(',')}`)
})

test('a malformed cursor is a bad request', () => {
  assert.throws(() => pageOf(snap(['a']), 1, 'nonsense'), (e: unknown) => e instanceof GatewayError && e.code === 'bad-request')
})
