// Builds PROXY protocol preambles for tests, independently of the parser under test.
import net from 'node:net';

export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

export interface V2Spec {
  command?: 'proxy' | 'local';
  /** Family/transport byte; default from the source address (0x11 TCP4, 0x21 TCP6), 0x00 without addresses. */
  family?: number;
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
  /** Raw TLVs: [type, value]. */
  tlvs?: Array<[number, Buffer]>;
  /** Overrides the length field (for malformed headers). */
  length?: number;
}

function ipBytes(addr: string): Buffer {
  if (net.isIPv4(addr)) return Buffer.from(addr.split('.').map(Number));
  // Expand an IPv6 address (no embedded dotted quad in tests).
  const [head, tail] = addr.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const words = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(parseInt(w, 16), 2 * i));
  return out;
}

export function proxyV2(spec: V2Spec = {}): Buffer {
  const command = spec.command ?? 'proxy';
  const src = spec.src;
  const family = spec.family ?? (src === undefined ? 0x00 : net.isIPv6(src) ? 0x21 : 0x11);
  let addrs = Buffer.alloc(0);
  if (src !== undefined) {
    const ports = Buffer.alloc(4);
    ports.writeUInt16BE(spec.sport ?? 0, 0);
    ports.writeUInt16BE(spec.dport ?? 0, 2);
    addrs = Buffer.concat([ipBytes(src), ipBytes(spec.dst ?? (net.isIPv6(src) ? '::1' : '127.0.0.1')), ports]);
  } else if ((family >> 4) === 3) {
    addrs = Buffer.alloc(216);
  }
  const tlvs = Buffer.concat((spec.tlvs ?? []).map(([type, value]) => {
    const h = Buffer.alloc(3);
    h[0] = type;
    h.writeUInt16BE(value.length, 1);
    return Buffer.concat([h, value]);
  }));
  const head = Buffer.alloc(4);
  head[0] = 0x20 | (command === 'proxy' ? 1 : 0);
  head[1] = family;
  head.writeUInt16BE(spec.length ?? addrs.length + tlvs.length, 2);
  return Buffer.concat([V2_SIGNATURE, head, addrs, tlvs]);
}

export function proxyV1(src: string, dst: string, sport: number, dport: number): Buffer {
  const proto = net.isIPv6(src) ? 'TCP6' : 'TCP4';
  return Buffer.from(`PROXY ${proto} ${src} ${dst} ${sport} ${dport}\r\n`, 'latin1');
}
