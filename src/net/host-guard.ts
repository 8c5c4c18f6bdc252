/**
 * SSRF guard for mail hosts. Every backend calls the guard before EVERY
 * connection and then connects to the address the guard checked, never to the
 * name again — so a DNS answer that changes between check and connect
 * (rebinding) cannot reach an address the policy refuses.
 *
 * Policy (MAIL_ALLOWED_HOSTS):
 *   unset  → any public address; loopback, private, link-local, CGNAT,
 *            multicast and unspecified addresses are refused.
 *   list   → host names (exact), `*.domain` (any sub-domain), IPs and CIDRs.
 *            A name entry allows whatever that name resolves to; an IP/CIDR
 *            entry allows addresses of any name that resolves inside it.
 *
 * Names are compared, resolved and dialled in their ASCII form (IDNA, UTS #46
 * as in URLs): `bücher.example` and `xn--bcher-kva.example` are one host, in a
 * request and in the list alike; `host` (the TLS servername) is the ASCII form,
 * as certificates carry it.
 */
import { lookup as dnsLookup } from 'node:dns/promises'
import { domainToASCII } from 'node:url'
import ipaddr from 'ipaddr.js'
import { GatewayError } from '../mail/errors.ts'

export interface ResolvedTarget {
  /** The name the caller gave (TLS servername when it is not an IP). */
  host: string
  /** The checked address to connect to. */
  address: string
  family: 4 | 6
}

export type HostGuard = (host: string) => Promise<ResolvedTarget>

type Lookup = (host: string) => Promise<Array<{ address: string, family: number }>>

const PUBLIC_RANGES = new Set(['unicast'])

interface Rules {
  names: Set<string>
  suffixes: string[]
  cidrs: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>
}

/** A host name's ASCII (punycode) form, lower-case; an IP literal as it is; '' when not a valid name. */
export function asciiHost (host: string): string {
  const trimmed = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1')
  return ipaddr.isValid(trimmed) ? trimmed : domainToASCII(trimmed)
}

function parseRules (entries: string[]): Rules {
  const rules: Rules = { names: new Set(), suffixes: [], cidrs: [] }
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase()
    if (entry === '') continue
    if (entry.startsWith('*.')) {
      rules.suffixes.push('.' + asciiHost(entry.slice(2)))
    } else if (entry.includes('/')) {
      rules.cidrs.push(ipaddr.parseCIDR(entry))
    } else if (ipaddr.isValid(entry)) {
      const addr = ipaddr.parse(entry)
      rules.cidrs.push([addr, addr.kind() === 'ipv4' ? 32 : 128])
    } else {
      rules.names.add(asciiHost(entry))
    }
  }
  return rules
}

/**
 * An IPv6 address that carries an IPv4 one is judged (and dialled) as that
 * IPv4 address: IPv4-mapped ::ffff:0:0/96 (::ffff:10.0.0.1), and the
 * deprecated IPv4-compatible ::/96 (::7f00:1 is 127.0.0.1, ::a9fe:a9fe the
 * metadata address), which ipaddr.js calls plain unicast. :: and ::1 stay
 * IPv6 (unspecified, loopback).
 */
function normalise (address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const parsed = ipaddr.parse(address)
  if (parsed.kind() === 'ipv4') return parsed
  const v6 = parsed as ipaddr.IPv6
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address()
  const p = v6.parts
  if (p.slice(0, 6).every(x => x === 0) && (p[6] !== 0 || (p[7] ?? 0) > 1)) {
    return ipaddr.fromByteArray(v6.toByteArray().slice(12)) as ipaddr.IPv4
  }
  return parsed
}

function inCidrs (addr: ipaddr.IPv4 | ipaddr.IPv6, rules: Rules): boolean {
  return rules.cidrs.some(([net, bits]) => addr.kind() === net.kind() && addr.match(net, bits))
}

function nameAllowed (host: string, rules: Rules): boolean {
  return rules.names.has(host) || rules.suffixes.some(s => host.endsWith(s) && host.length > s.length)
}

function validHostname (host: string): boolean {
  if (host.length === 0 || host.length > 253) return false
  if (ipaddr.isValid(host)) return true
  return /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i.test(host)
}

export function createHostGuard (allowed: string[] | null, lookup: Lookup = (h) => dnsLookup(h, { all: true, verbatim: true })): HostGuard {
  const rules = allowed === null ? null : parseRules(allowed)

  return async function guard (hostIn: string): Promise<ResolvedTarget> {
    const host = asciiHost(hostIn)
    if (!validHostname(host)) throw new GatewayError('bad-request', 'host is not a valid host name or IP address')
    const byName = rules !== null && nameAllowed(host, rules)
    // With only names on the list, an unlisted name is refused without a DNS query.
    if (rules !== null && !byName && rules.cidrs.length === 0) {
      throw new GatewayError('host-not-allowed', `mail host ${host} is not allowed by this gateway`)
    }
    let answers: Array<{ address: string, family: number }>
    try {
      answers = ipaddr.isValid(host) ? [{ address: host, family: host.includes(':') ? 6 : 4 }] : await lookup(host)
    } catch {
      throw new GatewayError('upstream-unavailable', `cannot resolve mail host ${host}`)
    }
    if (answers.length === 0) throw new GatewayError('upstream-unavailable', `cannot resolve mail host ${host}`)

    // Every address the name resolves to must pass: otherwise a name with one
    // public and one private answer could be steered to the private one.
    for (const answer of answers) {
      const addr = normalise(answer.address)
      const ok = rules === null
        ? PUBLIC_RANGES.has(addr.range())
        : byName || inCidrs(addr, rules)
      if (!ok) throw new GatewayError('host-not-allowed', `mail host ${host} is not allowed by this gateway`)
    }
    const first = answers[0]!
    const addr = normalise(first.address)
    return { host, address: addr.toString(), family: addr.kind() === 'ipv4' ? 4 : 6 }
  }
}
