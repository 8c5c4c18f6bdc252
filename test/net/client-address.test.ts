// The key a client is counted under by the login throttle and budgets.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { clientKey } from '../../src/net/client-address.ts'

test('IPv4 as it is, IPv4-mapped IPv6 as its IPv4, IPv6 by its /64', () => {
  assert.equal(clientKey('203.0.113.7'), '203.0.113.7')
  assert.equal(clientKey('::ffff:203.0.113.7'), '203.0.113.7')
  assert.equal(clientKey('2001:db8:1:2::1'), '2001:db8:1:2::/64')
  assert.equal(clientKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64')
  assert.notEqual(clientKey('2001:db8:1:3::1'), clientKey('2001:db8:1:2::1'))
  assert.equal(clientKey('not an address'), 'not an address')
})
