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
  'compat.example.com': ['::a9fe:a9fe'],
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

  it('judges IPv4-compatible IPv6 (::/96) as the IPv4 address it carries, and dials that', async () => {
    for (const host of ['::7f00:1', '[::7f00:1]', '::a9fe:a9fe', '::a00:1', '::127.0.0.1', 'compat.example.com']) {
      await assert.rejects(guard(host), { code: 'host-not-allowed' }, host)
    }
    assert.deepEqual(await guard('::5db8:d822'), { host: '::5db8:d822', address: '93.184.216.34', family: 4 })
  })

  it('refuses a name when any of its answers is private (rebinding)', async () => {
    await assert.rejects(guard('rebind.example.com'), { code: 'host-not-allowed' })
  })

  it('rejects garbage host names as bad-request and unknown names as unavailable', async () => {
    await assert.rejects(guard('exa mple.com'), { code: 'bad-request' })
    await assert.rejects(guard('nope.example.com'), { code: 'upstream-unavailable' })
  })
})

describe('the default policy is an allow-list of public unicast', () => {
  // One sample of every range that is not public unicast (RFC 6890 and successors), so a
  // deny-list of the well-known private ranges would not pass.
  const refused: Record<string, string> = {
    'this network 0.0.0.0/8': '0.1.2.3',
    'private 172.16.0.0/12': '172.31.255.254',
    'IETF protocol assignments 192.0.0.0/24': '192.0.0.170',
    'documentation 192.0.2.0/24': '192.0.2.1',
    '6to4 relay anycast 192.88.99.0/24': '192.88.99.1',
    'benchmarking 198.18.0.0/15': '198.19.0.1',
    'documentation 198.51.100.0/24': '198.51.100.7',
    'documentation 203.0.113.0/24': '203.0.113.9',
    'multicast 224.0.0.0/4': '239.255.255.250',
    'reserved 240.0.0.0/4': '240.0.0.1',
    'broadcast 255.255.255.255': '255.255.255.255',
    'unspecified ::': '::',
    'IPv6 multicast ff00::/8': 'ff02::1',
    'IPv6 ULA fc00::/7 (fc half)': 'fc00::1',
    'IPv6 ULA fd00::/8': 'fd12:3456:789a::1',
    'deprecated site-local fec0::/10': 'fec0::1',
    'discard-only 100::/64': '100::1',
    'NAT64 64:ff9b::/96 of a private IPv4': '64:ff9b::10.0.0.1',
    'NAT64 64:ff9b::/96 of the metadata address': '64:ff9b::169.254.169.254',
    'local-use NAT64 64:ff9b:1::/48': '64:ff9b:1::a00:1',
    'IPv4-translated ::ffff:0:0/96 of a private IPv4': '::ffff:0:192.168.1.1',
    '6to4 2002::/16 of a private IPv4': '2002:a00:1::1',
    '6to4 2002::/16 of loopback': '2002:7f00:1::1',
    'Teredo 2001::/32': '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    'documentation 2001:db8::/32': '2001:db8::1',
    'benchmarking 2001:2::/48': '2001:2::1',
    'ORCHIDv2 2001:20::/28': '2001:20::1',
  }
  const guard = createHostGuard(null, fakeDns({
    'ula.example.com': ['fd00::25'],
    'nat64.example.com': ['64:ff9b::c0a8:101'],
    'sixtofour.example.com': ['2002:c0a8:101::1'],
    'public6.example.com': ['2606:4700:4700::1111'],
  }))

  for (const [range, address] of Object.entries(refused)) {
    it(`refuses ${range} (${address})`, async () => {
      await assert.rejects(guard(address), { code: 'host-not-allowed' })
    })
  }

  it('refuses a name whose DNS answer is a ULA, a NAT64 or a 6to4 wrapping of a private IPv4', async () => {
    for (const host of ['ula.example.com', 'nat64.example.com', 'sixtofour.example.com']) {
      await assert.rejects(guard(host), { code: 'host-not-allowed' }, host)
    }
  })

  it('allows public unicast over IPv4 and IPv6, by address and by name', async () => {
    assert.equal((await guard('8.8.8.8')).address, '8.8.8.8')
    assert.equal((await guard('2a00:1450:4001:80b::200e')).family, 6)
    assert.deepEqual(await guard('public6.example.com'), { host: 'public6.example.com', address: '2606:4700:4700::1111', family: 6 })
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

describe('host guard with Unicode (IDN) host names', () => {
  const asked: string[] = []
  const idnDns = async (host: string): Promise<Array<{ address: string, family: number }>> => {
    asked.push(host)
    return await fakeDns({ 'xn--bcher-kva.example': ['93.184.216.35'], 'imap.xn--mnchen-3ya.example': ['10.9.9.9'] })(host)
  }

  it('resolves and dials the ASCII form, and gives it as the TLS name', async () => {
    asked.length = 0
    const guard = createHostGuard(null, idnDns)
    assert.deepEqual(await guard('Bücher.example'), { host: 'xn--bcher-kva.example', address: '93.184.216.35', family: 4 })
    assert.deepEqual(asked, ['xn--bcher-kva.example'])
  })

  it('matches an allow-list written in either form, names and *.domain alike', async () => {
    for (const list of [['bücher.example'], ['xn--bcher-kva.example'], ['*.München.example', 'bücher.example']]) {
      const guard = createHostGuard(list, idnDns)
      assert.equal((await guard('bücher.example')).address, '93.184.216.35', list.join())
      assert.equal((await guard('xn--bcher-kva.example')).address, '93.184.216.35', list.join())
    }
    const guard = createHostGuard(['*.münchen.example'], idnDns)
    assert.equal((await guard('imap.münchen.example')).host, 'imap.xn--mnchen-3ya.example')
    await assert.rejects(guard('bücher.example'), { code: 'host-not-allowed' })
  })

  it('still refuses what is no host name in any form', async () => {
    const guard = createHostGuard(null, idnDns)
    for (const host of ['exa mple.com', 'a..b', 'xn--zz.example', '']) await assert.rejects(guard(host), { code: 'bad-request' }, host)
  })
})
