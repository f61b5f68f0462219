import ipaddr from 'ipaddr.js';

/** A parsed CIDR range (a bare address is a /32 or /128), with IPv4-mapped IPv6 folded to IPv4. */
export interface CidrRange {
  range: ipaddr.IPv4 | ipaddr.IPv6;
  bits: number;
}

/** Parse `10.0.0.0/8`, `2001:db8::/32`, or a bare address; throws with a clear message. */
export function parseCidr(text: string): CidrRange {
  const trimmed = text.trim();
  try {
    const [range, bits] = trimmed.includes('/')
      ? ipaddr.parseCIDR(trimmed)
      : [ipaddr.parse(trimmed), ipaddr.parse(trimmed).kind() === 'ipv4' ? 32 : 128];
    if (range.kind() === 'ipv6' && (range as ipaddr.IPv6).isIPv4MappedAddress()) {
      return { range: (range as ipaddr.IPv6).toIPv4Address(), bits: Math.max(0, bits - 96) };
    }
    return { range, bits };
  } catch {
    throw new Error(`"${text}" is not an IP address or CIDR range`);
  }
}

/** The canonical text of a range, e.g. `10.0.0.0/8`. */
export function formatCidr(c: CidrRange): string {
  const base =
    c.range.kind() === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(`${c.range.toString()}/${c.bits}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${c.range.toString()}/${c.bits}`);
  return `${base.toString()}/${c.bits}`;
}

/** Parse a client address (IPv4-mapped IPv6 folded to IPv4); undefined when it is not an address. */
export function parseIp(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const cached = parsedIps.get(ip);
  if (cached !== undefined || parsedIps.has(ip)) return cached;
  const bare = ip.split('%')[0] ?? ip;
  const parsed = ipaddr.isValid(bare) ? ipaddr.process(bare) : undefined;
  // Clients come from few addresses: parsing once per address keeps ipaddr off the hot path.
  if (parsedIps.size >= 4096) parsedIps.clear();
  parsedIps.set(ip, parsed);
  return parsed;
}

const parsedIps = new Map<string, ipaddr.IPv4 | ipaddr.IPv6 | undefined>();

export function inRange(address: ipaddr.IPv4 | ipaddr.IPv6, c: CidrRange): boolean {
  return address.kind() === c.range.kind() && address.match(c.range, c.bits);
}

/** Whether `ip` falls in any of the CIDRs (IPv4, IPv6, and IPv4-mapped IPv6 alike). */
export function ipInCidrs(ip: string, cidrs: string[]): boolean {
  if (!ipaddr.isValid(ip)) return false;
  const address = ipaddr.process(ip);
  for (const cidr of cidrs) {
    try {
      const [range, bits] = cidr.includes('/')
        ? ipaddr.parseCIDR(cidr)
        : [ipaddr.process(cidr), ipaddr.process(cidr).kind() === 'ipv4' ? 32 : 128];
      const normalised =
        range.kind() === 'ipv6' && (range as ipaddr.IPv6).isIPv4MappedAddress()
          ? (range as ipaddr.IPv6).toIPv4Address()
          : range;
      const prefix = normalised !== range ? Math.max(0, bits - 96) : bits;
      if (address.kind() === normalised.kind() && address.match(normalised, prefix)) return true;
    } catch {
      // an unparsable entry matches nothing
    }
  }
  return false;
}
