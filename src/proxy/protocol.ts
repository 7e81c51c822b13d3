// The PROXY protocol (HAProxy's proxy-protocol.txt), versions 1 and 2, sans-I/O: the bytes a
// connection started with go in, a verdict comes out — need more bytes, a complete preamble (what
// it says and how many bytes it took), or an error. No sockets and no timers here: the server's
// accept path (src/proxy/accept.ts) feeds it and owns the deadline.
//
// v1 is one text line, `PROXY TCP4 <src> <dst> <sport> <dport>\r\n` (or TCP6, or UNKNOWN with
// anything after it), 107 bytes at most. v2 is a 16-byte binary header (signature, version and
// command, family and transport, payload length) then the addresses and optional TLVs. A
// receiver must not guess: with the option on, a connection that does not start with a valid
// preamble is an error, detected as soon as the first wrong byte arrives.
import net from 'node:net';

export interface ProxyAddress {
  address: string;
  port: number;
}

export interface ProxyHeader {
  version: 1 | 2;
  /**
   * 'proxy': relayed for a client, `source`/`destination` say who (when the family is known).
   * 'local': the proxy speaks for itself (v2 health checks): keep the socket's own addresses.
   */
  command: 'proxy' | 'local';
  /** null: UNKNOWN (v1), UNSPEC or UNIX (v2): nothing an IP address can be taken from. */
  source: ProxyAddress | null;
  destination: ProxyAddress | null;
  /** v2's SSL TLV says the client reached the proxy over TLS. */
  tls: boolean;
}

export type ProxyParse =
  | { kind: 'need-more' }
  | { kind: 'done'; header: ProxyHeader; consumed: number }
  | { kind: 'error'; reason: string };

/** v1's longest line, CRLF included (the spec's figure for TCP6 with the longest addresses). */
export const V1_MAX_LENGTH = 107;
/** v2 payload (addresses + TLVs) accepted at most. The format allows 65535; nobody sends that much. */
export const V2_MAX_PAYLOAD = 4096;

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_HEADER = 16;
const NEED_MORE: ProxyParse = Object.freeze({ kind: 'need-more' });

const PP2_TYPE_SSL = 0x20;
const PP2_CLIENT_SSL = 0x01;

const error = (reason: string): ProxyParse => ({ kind: 'error', reason });

/** Reads a preamble off the front of `buf` (everything received so far). Pure: call it again with more bytes. */
export function parseProxyHeader(buf: Uint8Array): ProxyParse {
  if (buf.length === 0) return NEED_MORE;
  if (buf[0] === V1_PREFIX[0]) return parseV1(buf);
  if (buf[0] === V2_SIGNATURE[0]) return parseV2(buf);
  return error('no PROXY protocol preamble');
}

/** True while `buf` is a prefix of `expected` (or starts with all of it). */
function prefixMatches(buf: Uint8Array, expected: Uint8Array): boolean {
  const n = Math.min(buf.length, expected.length);
  for (let i = 0; i < n; i++) if (buf[i] !== expected[i]) return false;
  return true;
}

// ---- v1 -------------------------------------------------------------------------------------

function parseV1(buf: Uint8Array): ProxyParse {
  if (!prefixMatches(buf, V1_PREFIX)) return error('no PROXY protocol preamble');
  const limit = Math.min(buf.length, V1_MAX_LENGTH - 1); // the CR's last possible place, LF after it
  let cr = -1;
  for (let i = V1_PREFIX.length; i < limit; i++) {
    const b = buf[i];
    if (b === 0x0d) { cr = i; break; }
    if (b < 0x20 || b > 0x7e) return error('v1: a byte that is not printable ASCII');
  }
  if (cr === -1) return buf.length >= V1_MAX_LENGTH - 1 ? error(`v1: no CRLF within ${V1_MAX_LENGTH} bytes`) : NEED_MORE;
  if (cr + 1 >= buf.length) return NEED_MORE;
  if (buf[cr + 1] !== 0x0a) return error('v1: CR not followed by LF');
  const line = Buffer.from(buf.buffer, buf.byteOffset, cr).toString('latin1');
  const consumed = cr + 2;
  const fields = line.split(' ');
  if (fields[1] === 'UNKNOWN') {
    // "the receiver must ignore anything presented before the CRLF is found"
    return { kind: 'done', consumed, header: { version: 1, command: 'proxy', source: null, destination: null, tls: false } };
  }
  if (fields.length !== 6) return error('v1: expected PROXY <TCP4|TCP6> <src> <dst> <sport> <dport>');
  const [, proto, src, dst, sport, dport] = fields as [string, string, string, string, string, string];
  const isIP = proto === 'TCP4' ? net.isIPv4 : proto === 'TCP6' ? net.isIPv6 : null;
  if (isIP === null) return error(`v1: unknown protocol "${proto}"`);
  if (!isIP(src) || !isIP(dst)) return error(`v1: not ${proto === 'TCP4' ? 'IPv4' : 'IPv6'} addresses`);
  const sp = v1Port(sport);
  const dp = v1Port(dport);
  if (sp === -1 || dp === -1) return error('v1: ports must be 0-65535 in decimal');
  return {
    kind: 'done',
    consumed,
    header: { version: 1, command: 'proxy', source: { address: src, port: sp }, destination: { address: dst, port: dp }, tls: false },
  };
}

function v1Port(s: string): number {
  if (!/^(?:0|[1-9]\d{0,4})$/.test(s)) return -1;
  const n = Number(s);
  return n <= 65535 ? n : -1;
}

// ---- v2 -------------------------------------------------------------------------------------

function parseV2(buf: Uint8Array): ProxyParse {
  if (!prefixMatches(buf, V2_SIGNATURE)) return error('no PROXY protocol preamble');
  if (buf.length < V2_HEADER) {
    // Check what has arrived of the fixed part, so garbage fails before the rest comes.
    if (buf.length > 12 && (buf[12] >> 4) !== 2) return error('v2: unsupported version');
    if (buf.length > 12 && (buf[12] & 0x0f) > 1) return error('v2: unknown command');
    if (buf.length > 13 && !FAMILIES.has(buf[13])) return error('v2: unknown address family or transport');
    return NEED_MORE;
  }
  const verCmd = buf[12];
  if ((verCmd >> 4) !== 2) return error('v2: unsupported version');
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return error('v2: unknown command');
  const fam = buf[13];
  const addrLen = FAMILIES.get(fam);
  if (addrLen === undefined) return error('v2: unknown address family or transport');
  const len = (buf[14] << 8) | buf[15];
  if (len > V2_MAX_PAYLOAD) return error(`v2: a ${len}-byte payload is more than the ${V2_MAX_PAYLOAD} accepted`);
  if (len < addrLen) return error('v2: payload shorter than its addresses');
  const consumed = V2_HEADER + len;
  if (buf.length < consumed) return NEED_MORE;

  const tls = hasTlsTlv(buf, V2_HEADER + addrLen, consumed);
  if (tls === null) return error('v2: malformed TLV');
  const local = cmd === 0;
  let source: ProxyAddress | null = null;
  let destination: ProxyAddress | null = null;
  // LOCAL: "the receiver must accept this connection as valid and must use the real connection
  // endpoints and discard the protocol block including the family".
  if (!local && (fam >> 4) === 1) {
    const p = V2_HEADER;
    source = { address: ipv4(buf, p), port: port(buf, p + 8) };
    destination = { address: ipv4(buf, p + 4), port: port(buf, p + 10) };
  } else if (!local && (fam >> 4) === 2) {
    const p = V2_HEADER;
    source = { address: ipv6(buf, p), port: port(buf, p + 32) };
    destination = { address: ipv6(buf, p + 16), port: port(buf, p + 34) };
  }
  return { kind: 'done', consumed, header: { version: 2, command: local ? 'local' : 'proxy', source, destination, tls } };
}

/** The family/transport bytes the spec allows, with the length of their address block. */
const FAMILIES = new Map<number, number>([
  [0x00, 0],   // UNSPEC
  [0x11, 12],  // TCP over IPv4
  [0x12, 12],  // UDP over IPv4
  [0x21, 36],  // TCP over IPv6
  [0x22, 36],  // UDP over IPv6
  [0x31, 216], // UNIX stream
  [0x32, 216], // UNIX datagram
]);

/**
 * Walks the TLVs (type, 2-byte length, value) between `from` and `to`, skipping all but SSL.
 * Returns whether the SSL TLV says the client used TLS, or null when a TLV overruns the header.
 */
function hasTlsTlv(buf: Uint8Array, from: number, to: number): boolean | null {
  let tls = false;
  let i = from;
  while (i < to) {
    if (i + 3 > to) return null;
    const type = buf[i];
    const len = (buf[i + 1] << 8) | buf[i + 2];
    const value = i + 3;
    if (value + len > to) return null;
    if (type === PP2_TYPE_SSL && len >= 1 && (buf[value] & PP2_CLIENT_SSL) !== 0) tls = true;
    i = value + len;
  }
  return tls;
}

function port(buf: Uint8Array, at: number): number {
  return (buf[at] << 8) | buf[at + 1];
}

function ipv4(buf: Uint8Array, at: number): string {
  return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
}

/** RFC 5952 text (lower case, longest zero run as ::), with IPv4-mapped addresses as ::ffff:a.b.c.d like Node's sockets. */
export function ipv6(buf: Uint8Array, at: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((buf[at + 2 * i] << 8) | buf[at + 2 * i + 1]);
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) return `::ffff:${ipv4(buf, at + 12)}`;
  let best = -1, bestLen = 1; // a single zero word is not compressed
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best === -1) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
