import ipaddr from 'ipaddr.js';

/** A parsed CIDR range (a bare address is a /32 or /128), with IPv4-mapped IPv6 folded to IPv4. */
export interface CidrRange {
  range: ipaddr.IPv4 | ipaddr.IPv6;
  bits: number;
}

/** Parse `10.0.0.0/8`, `2001:db8::/32`, or a bare address; throws with a clear message. */
export function parseCidr(text: string): CidrRange {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const address = slash === -1 ? trimmed : trimmed.slice(0, slash);
  // ipaddr also reads legacy IPv4 forms ("10" is 0.0.0.10, "0x7f.1" is 127.0.0.1); a rule typed as
  // "10/8" must not silently become 0.0.0.0/8, so IPv4 must be four decimal parts.
  const strict = ipaddr.IPv4.isValidFourPartDecimal(address) || ipaddr.IPv6.isValid(address);
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number] | undefined;
  if (strict && !address.includes('%')) {
    try {
      parsed = slash === -1 ? [ipaddr.parse(address), address.includes(':') ? 128 : 32] : ipaddr.parseCIDR(trimmed);
    } catch {
      parsed = undefined;
    }
  }
  if (!parsed) throw new Error(`"${text}" is not an IP address or CIDR range (e.g. 10.0.0.0/8, 2001:db8::/32)`);
  const [range, bits] = parsed;
  if (range.kind() === 'ipv6' && (range as ipaddr.IPv6).isIPv4MappedAddress()) {
    // A mapped range shorter than /96 also covers non-mapped IPv6 addresses: it has no IPv4 meaning.
    if (bits < 96) throw new Error(`"${text}": an IPv4-mapped range needs a prefix of at least /96`);
    return { range: (range as ipaddr.IPv6).toIPv4Address(), bits: bits - 96 };
  }
  return { range, bits };
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
  const address = parseIp(ip);
  if (!address) return false;
  for (const cidr of cidrs) {
    const range = cachedRange(cidr);
    if (range && inRange(address, range)) return true;
  }
  return false;
}

const parsedRanges = new Map<string, CidrRange | null>();

/** A key's CIDR list is parsed once, not on every request; an unparsable entry matches nothing. */
function cachedRange(cidr: string): CidrRange | null {
  let range = parsedRanges.get(cidr);
  if (range === undefined) {
    try {
      range = parseCidr(cidr);
    } catch {
      range = null;
    }
    if (parsedRanges.size >= 4096) parsedRanges.clear();
    parsedRanges.set(cidr, range);
  }
  return range;
}
