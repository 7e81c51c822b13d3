// Which peers are trusted proxies: a list of addresses and CIDR ranges (IPv4 and IPv6) compiled
// into a predicate. Pure. IPv4-mapped IPv6 addresses (::ffff:10.0.0.1, what a dual-stack socket
// reports for an IPv4 peer) match IPv4 ranges, and the other way round.
import net from 'node:net';

export class TrustListError extends Error {}

/** Named ranges, as the proxy-addr package (Express's trust proxy) names them. */
const KEYWORDS: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};
/** "private" reads better on a command line: RFC 1918 + RFC 4193, the same as uniquelocal. */
const ALIASES: Readonly<Record<string, string>> = { private: 'uniquelocal' };

/** An address as 16 bytes (IPv4 as IPv4-mapped IPv6), so one comparison serves both families. */
type Bytes16 = Uint8Array;

interface Range {
  base: Bytes16;
  /** Leading bits that must match, out of 128. */
  bits: number;
}

export type TrustPredicate = (address: string | undefined) => boolean;

/**
 * Compiles "127.0.0.1,10.0.0.0/8,::1,loopback" (or an array of such entries) into a predicate.
 * Throws TrustListError naming the first bad entry. An empty list trusts nobody.
 */
export function compileTrust(list: string | readonly string[]): TrustPredicate {
  const entries = (typeof list === 'string' ? list.split(',') : list.flatMap((e) => e.split(',')))
    .map((e) => e.trim())
    .filter((e) => e !== '');
  const ranges: Range[] = [];
  for (const entry of entries) {
    const name = ALIASES[entry.toLowerCase()] ?? entry.toLowerCase();
    const named = KEYWORDS[name];
    if (named) { for (const cidr of named) ranges.push(parseRange(cidr)); continue; }
    ranges.push(parseRange(entry));
  }
  if (ranges.length === 0) return () => false;
  return (address) => {
    if (address === undefined) return false;
    const bytes = parseAddress(address);
    if (bytes === null) return false;
    for (const r of ranges) if (inRange(bytes, r)) return true;
    return false;
  };
}

function parseRange(entry: string): Range {
  const slash = entry.indexOf('/');
  const addr = slash === -1 ? entry : entry.slice(0, slash);
  const bytes = parseAddress(addr);
  if (bytes === null) throw new TrustListError(`not an IP address or CIDR range: "${entry}"`);
  const v4 = net.isIPv4(addr);
  const max = v4 ? 32 : 128;
  let bits = max;
  if (slash !== -1) {
    const p = entry.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) throw new TrustListError(`bad prefix length in "${entry}" (0-${max})`);
    bits = Number(p);
  }
  return { base: bytes, bits: v4 ? bits + 96 : bits };
}

function inRange(bytes: Bytes16, r: Range): boolean {
  const full = r.bits >> 3;
  for (let i = 0; i < full; i++) if (bytes[i] !== r.base[i]) return false;
  const rest = r.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (bytes[full] & mask) === (r.base[full] & mask);
}

/** An IPv4 or IPv6 address (zone index ignored) as 16 bytes, or null if it is neither. */
export function parseAddress(address: string): Bytes16 | null {
  const pct = address.indexOf('%');
  const a = pct === -1 ? address : address.slice(0, pct);
  const out = new Uint8Array(16);
  if (net.isIPv4(a)) {
    out[10] = 0xff;
    out[11] = 0xff;
    const parts = a.split('.');
    for (let i = 0; i < 4; i++) out[12 + i] = Number(parts[i]);
    return out;
  }
  if (!net.isIPv6(a)) return null;
  // An embedded dotted quad (::ffff:1.2.3.4) becomes two words.
  let text = a;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const p = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((p[0] << 8) | p[1]).toString(16)}:${((p[2] << 8) | p[3]).toString(16)}`;
  }
  const [head, tailPart] = text.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tailPart === undefined || tailPart === '' ? [] : tailPart.split(':');
  const words = tailPart === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  if (words.length !== 8) return null;
  for (let i = 0; i < 8; i++) {
    const w = parseInt(words[i]!, 16);
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  }
  return out;
}
