/**
 * The key a client is counted under by the login budgets and throttle: an
 * IPv4 address as it is (IPv4-mapped IPv6 too), an IPv6 address by its /64,
 * which is what one subscriber usually gets (counting each of its addresses
 * on its own would give one client 2^64 budgets).
 */
import ipaddr from 'ipaddr.js'

export function clientKey (ip: string): string {
  if (!ipaddr.isValid(ip)) return ip
  const addr = ipaddr.process(ip)
  if (addr.kind() === 'ipv4') return addr.toString()
  const parts = (addr as ipaddr.IPv6).parts.slice(0, 4)
  return `${parts.map(p => p.toString(16)).join(':')}::/64`
}
