import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { accountTag, cacheKey, globalKey, ttlWithJitter } from '../../src/cache/keys.ts'
import { ttlAtMost } from '../../src/cache/sealed.ts'

const secret = Buffer.from('a-test-gateway-secret-of-32-bytes!')
const other = Buffer.from('another-gateway-secret-0123456789')

describe('cache keys', () => {
  test('layout: mg:v1:{tag}:kind:digest, tag and digest opaque base64url', () => {
    const tag = accountTag(secret, 'acct-1')
    assert.match(tag, /^[A-Za-z0-9_-]{22}$/)
    const key = cacheKey(secret, tag, 'message', 'INBOX', 1700000000, 42)
    assert.match(key, /^mg:v1:\{[A-Za-z0-9_-]{22}\}:message:[A-Za-z0-9_-]{24}$/)
    assert.ok(key.startsWith(`mg:v1:{${tag}}:`), 'account hash tag for Redis Cluster')
    assert.ok(!key.includes('INBOX') && !key.includes('1700000000') && !key.includes('acct-1'))
  })

  test('deterministic per secret, different across secrets, accounts and parts', () => {
    assert.equal(accountTag(secret, 'a'), accountTag(secret, 'a'))
    assert.notEqual(accountTag(secret, 'a'), accountTag(other, 'a'))
    assert.notEqual(accountTag(secret, 'a'), accountTag(secret, 'b'))
    const ta = accountTag(secret, 'a')
    const tb = accountTag(secret, 'b')
    const ka = cacheKey(secret, ta, 'mailbox', 'Sent')
    const kb = cacheKey(secret, tb, 'mailbox', 'Sent')
    assert.notEqual(ka.split(':').at(-1), kb.split(':').at(-1), 'same mailbox in two accounts → unrelated digests')
    assert.equal(ka, cacheKey(secret, ta, 'mailbox', 'Sent'))
    assert.notEqual(cacheKey(secret, ta, 'mailbox', 'ab', 'c'), cacheKey(secret, ta, 'mailbox', 'a', 'bc'))
    assert.notEqual(cacheKey(secret, ta, 'mailbox', 'x'), cacheKey(secret, ta, 'message', 'x'))
  })

  test('kinds are validated so nothing in clear slips in through them', () => {
    const tag = accountTag(secret, 'a')
    assert.throws(() => cacheKey(secret, tag, 'INBOX/Private'), TypeError)
    assert.throws(() => globalKey(secret, 'has space'), TypeError)
    assert.match(globalKey(secret, 'rev', 'token-id'), /^mg:v1:rev:[A-Za-z0-9_-]{24}$/)
    assert.ok(!globalKey(secret, 'rev', 'token-id').includes('token-id'))
  })

  test('ttlWithJitter stays within ±10 % and varies', () => {
    const seen = new Set<number>()
    for (let i = 0; i < 500; i++) {
      const t = ttlWithJitter(1000)
      assert.ok(t >= 900 && t <= 1100, String(t))
      seen.add(t)
    }
    assert.ok(seen.size > 20)
    assert.equal(ttlWithJitter(0), 1)
  })

  test('ttlAtMost never exceeds the bound', () => {
    const seen = new Set<number>()
    for (let i = 0; i < 500; i++) {
      const t = ttlAtMost(600)
      assert.ok(t >= 540 && t <= 600, String(t))
      seen.add(t)
      assert.ok(ttlAtMost(2) <= 2 && ttlAtMost(2) >= 1)
    }
    assert.ok(seen.size > 10)
  })
})
