// Seeded mutations of HTTP/1.1 requests: input k of seed s is always the same bytes, so a finding
// is reproduced from two numbers (and a watchdog can rebuild the input a stuck run was on).

/** mulberry32: small, fast, good enough to pick mutations. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fragments that matter to HTTP framing: what a mutation inserts or swaps in. */
const TOKENS = [
  '\r\n', '\n', '\r', '\r\n\r\n', ' ', '\t', '\x00', '\xa0', '\x0b', '\x0c', '\x7f', '\xff', ':', ';', ',', '"', '\\', '%00', '%0d', '%0A',
  'Transfer-Encoding: chunked\r\n', 'Content-Length: 5\r\n', 'Content-Length: 0\r\n', 'Transfer-Encoding: \xa0chunked\r\n',
  'Transfer-Encoding: ,chunked\r\n', 'Transfer-Encoding: chunked, gzip\r\n', 'Connection: close\r\n', 'Connection: keep-alive\r\n',
  'Expect: 100-continue\r\n', 'Host: h\r\n', 'Host: \r\n', 'Upgrade: websocket\r\n', 'chunked', 'identity', 'gzip',
  '0\r\n\r\n', '5\r\nhello\r\n', 'ffffffffffff', '0x5', '007', '-1', '+5', '1 2', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'GET', 'POST',
  'CONNECT', 'OPTIONS', 'VERSION-CONTROL', 'PURGE', 'QUERY', '*', 'http://h/', 'h:80', '/', '?', '#', '%', 'X-A: b\r\n', ' \r\n', '\t\r\n',
];

/** Well-formed and malformed requests the mutations start from. */
export function mutate(seeds: readonly Buffer[], seed: number, k: number): Buffer {
  const rand = rng((seed * 0x9e3779b1) ^ (k * 0x85ebca6b));
  const int = (n: number) => Math.floor(rand() * n);
  let b = Buffer.from(seeds[int(seeds.length)]);
  const rounds = 1 + int(4);
  for (let r = 0; r < rounds; r++) {
    const at = int(b.length + 1);
    switch (int(10)) {
      case 0: { // flip a byte to any value
        if (b.length > 0) b[int(b.length)] = int(256);
        break;
      }
      case 1: // insert a framing fragment
      case 2: {
        const t = Buffer.from(TOKENS[int(TOKENS.length)], 'latin1');
        b = Buffer.concat([b.subarray(0, at), t, b.subarray(at)]);
        break;
      }
      case 3: { // delete a short range
        const n = 1 + int(8);
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + n))]);
        break;
      }
      case 4: { // replace a range with a fragment
        const n = 1 + int(6);
        const t = Buffer.from(TOKENS[int(TOKENS.length)], 'latin1');
        b = Buffer.concat([b.subarray(0, at), t, b.subarray(Math.min(b.length, at + n))]);
        break;
      }
      case 5: { // duplicate a line
        const lines = b.toString('latin1').split('\r\n');
        if (lines.length > 1) {
          const i = int(lines.length - 1);
          lines.splice(i, 0, lines[i]);
          b = Buffer.from(lines.join('\r\n'), 'latin1');
        }
        break;
      }
      case 6: { // splice the tail of another seed
        const o = seeds[int(seeds.length)];
        b = Buffer.concat([b.subarray(0, at), o.subarray(int(o.length + 1))]);
        break;
      }
      case 7: { // change a letter's case
        if (b.length > 0) {
          const i = int(b.length);
          const c = b[i];
          if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) b[i] = c ^ 0x20;
        }
        break;
      }
      case 8: { // swap a number for another
        const s = b.toString('latin1');
        const nums = [...s.matchAll(/[0-9a-fA-F]+/g)];
        if (nums.length > 0) {
          const m = nums[int(nums.length)];
          const v = ['0', '1', '00', '5', '6', '10', 'a', 'A', '7fffffff', String(int(100000))][int(10)];
          b = Buffer.from(s.slice(0, m.index) + v + s.slice(m.index! + m[0].length), 'latin1');
        }
        break;
      }
      default: { // repeat a byte (long tokens, long lines)
        if (b.length > 0) {
          const i = int(b.length);
          b = Buffer.concat([b.subarray(0, i), Buffer.alloc(1 + int(64), b[i]), b.subarray(i)]);
        }
      }
    }
  }
  return b;
}

/** Random cut points for input k (1 to 4 of them). */
export function cuts(length: number, seed: number, k: number): number[] {
  const rand = rng((seed * 0x27d4eb2f) ^ (k * 0x165667b1));
  const n = 1 + Math.floor(rand() * 4);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(1 + Math.floor(rand() * Math.max(1, length - 1)));
  return out.sort((a, b) => a - b);
}
