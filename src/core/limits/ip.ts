/**
 * IP addresses as per-client keys. One client must count once whatever form
 * its address arrives in: with a port (`203.0.113.7:1111`, `[2001:db8::1]:443`,
 * as some proxies write it), IPv4-mapped IPv6 (`::ffff:203.0.113.7`), with a
 * zone, in upper case or spelled out in full. And since a single subscriber
 * is usually handed a whole IPv6 /64 (or more), an IPv6 address counts by its
 * network prefix.
 *
 * By hand because the core runs on Web APIs only (no `node:net`), and the
 * parsing is small: RFC 4291 text forms in, RFC 5952 canonical text out.
 */

/** Longest key kept for a value that is not an IP address (a proxy's `unknown`, garbage). */
const MAX_OTHER_KEY = 64;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/;

function ipv4Groups(text: string): [number, number] | undefined {
  if (!IPV4.test(text)) return undefined;
  const [a, b, c, d] = text.split('.').map(Number) as [number, number, number, number];
  return [(a << 8) | b, (c << 8) | d];
}

/** The eight 16-bit groups of an IPv6 address in text form, or `undefined` when it is not one. */
export function parseIpv6(text: string): number[] | undefined {
  let s = text.toLowerCase();
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (lastColon >= 0 && s.includes('.', lastColon)) {
    const v4 = ipv4Groups(s.slice(lastColon + 1));
    if (!v4) return undefined;
    tail = v4;
    s = `${s.slice(0, lastColon + 1)}0`;
    // The 0 stands in for the two IPv4 groups; it is replaced below.
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const part = (h: string) => (h === '' ? [] : h.split(':'));
  const head = part(halves[0]!);
  const rest = halves.length === 2 ? part(halves[1]!) : [];
  for (const g of [...head, ...rest]) if (!HEX_GROUP.test(g)) return undefined;
  let groups: number[];
  const given = head.length + rest.length;
  if (halves.length === 2) {
    const missing = 8 - given - (tail.length > 0 ? 1 : 0);
    if (missing < 1) return undefined;
    groups = [...head, ...Array<string>(missing).fill('0'), ...rest].map((g) => parseInt(g, 16));
  } else {
    groups = head.map((g) => parseInt(g, 16));
  }
  if (tail.length > 0) groups.splice(groups.length - 1, 1, ...tail);
  return groups.length === 8 ? groups : undefined;
}

/** RFC 5952 text: lower case, no leading zeros, the longest run of two or more zero groups as `::`. */
function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Zeroes every bit past the first `prefix`. */
function maskIpv6(groups: readonly number[], prefix: number): number[] {
  return groups.map((g, i) => {
    const bits = Math.min(16, Math.max(0, prefix - i * 16));
    return bits === 16 ? g : bits === 0 ? 0 : g & ((0xffff << (16 - bits)) & 0xffff);
  });
}

/** Strips a port (`1.2.3.4:80`, `[::1]:80`), brackets and quotes from an address as a proxy wrote it. */
function stripPort(value: string): string {
  let s = value.trim().replace(/^"|"$/g, '');
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    return close > 0 ? s.slice(1, close) : s;
  }
  const colon = s.indexOf(':');
  // One colon: IPv4 (or a name) with a port. Two or more: IPv6 without brackets, which carries no port.
  if (colon >= 0 && colon === s.lastIndexOf(':')) s = s.slice(0, colon);
  return s;
}

/**
 * The per-client key of an address: IPv4 as dotted text; IPv6 as its
 * `ipv6Prefix`-bit network (`2001:db8:1:2::/64`; 128 keeps the whole address),
 * IPv4-mapped IPv6 as the IPv4 address; anything else lower-cased and cut short.
 */
export function addressKey(value: string, ipv6Prefix: number): string {
  const address = stripPort(value);
  if (ipv4Groups(address)) return address;
  const groups = address.includes(':') ? parseIpv6(address) : undefined;
  if (!groups) return address.toLowerCase().slice(0, MAX_OTHER_KEY);
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  if (ipv6Prefix >= 128) return formatIpv6(groups);
  return `${formatIpv6(maskIpv6(groups, ipv6Prefix))}/${ipv6Prefix}`;
}
