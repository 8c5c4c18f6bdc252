import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createHostGuard } from '../../src/net/host-guard.ts'

const fakeDns = (table: Record<string, string[]>) => async (host: string) => {
  const addrs = table[host]
  if (addrs === undefined) throw new Error('ENOTFOUND')
  return addrs.map(address => ({ address, family: address.includes(':') ? 6 : 4 }))
}

const dns = fakeDns({
  'mail.example.com': ['93.184.216.34'],
  'rebind.example.com': ['93.184.216.34', '10.0.0.5'],
  'local.example.com': ['127.0.0.1'],
  'mapped.example.com': ['::ffff:192.168.1.1'],
  'imap.corp.example': ['10.1.2.3'],
  'corp.example': ['10.1.2.4'],
})

describe('host guard without an allow-list', () => {
  const guard = createHostGuard(null, dns)

  it('allows public addresses and returns the checked address', async () => {
    assert.deepEqual(await guard('Mail.Example.com'), { host: 'mail.example.com', address: '93.184.216.34', family: 4 })
  })

  it('refuses loopback, private, link-local, metadata and IPv4-mapped private targets', async () => {
    for (const host of ['127.0.0.1', 'local.example.com', '10.0.0.1', '192.168.0.10', '169.254.169.254', '::1', '[::1]', 'fe80::1', 'mapped.example.com', '0.0.0.0', '100.64.0.1']) {
      await assert.rejects(guard(host), { code: 'host-not-allowed' }, host)
    }
  })

  it('refuses a name when any of its answers is private (rebinding)', async () => {
    await assert.rejects(guard('rebind.example.com'), { code: 'host-not-allowed' })
  })

  it('rejects garbage host names as bad-request and unknown names as unavailable', async () => {
    await assert.rejects(guard('exa mple.com'), { code: 'bad-request' })
    await assert.rejects(guard('nope.example.com'), { code: 'upstream-unavailable' })
  })
})

describe('host guard with MAIL_ALLOWED_HOSTS', () => {
  it('refuses unlisted names without asking DNS when the list has no IPs', async () => {
    let asked = 0
    const g = createHostGuard(['mail.example.com'], async (h) => { asked++; return dns(h) })
    await assert.rejects(g('other.example.com'), { code: 'host-not-allowed' })
    assert.equal(asked, 0)
    assert.equal((await g('mail.example.com')).address, '93.184.216.34')
  })

  const guard = createHostGuard(['*.corp.example', '127.0.0.1', '203.0.113.0/24', 'mail.example.com'], dns)

  it('allows listed names, wildcard sub-domains, IPs and CIDRs', async () => {
    assert.equal((await guard('imap.corp.example')).address, '10.1.2.3')
    assert.equal((await guard('127.0.0.1')).address, '127.0.0.1')
    assert.equal((await guard('203.0.113.9')).address, '203.0.113.9')
    assert.equal((await guard('mail.example.com')).address, '93.184.216.34')
  })

  it('refuses everything else, public or not', async () => {
    for (const host of ['corp.example', 'rebind.example.com', '8.8.8.8', '10.0.0.1']) {
      await assert.rejects(guard(host), { code: 'host-not-allowed' }, host)
    }
  })
})
