// The PROXY protocol: the sans-I/O parser byte by byte (v1, v2, every split point, malformed and
// oversized input), then the server's accept path over real sockets (serve({ proxyProtocol })),
// and curl's --haproxy-protocol against the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { parseProxyHeader, ipv6, V1_MAX_LENGTH, V2_MAX_PAYLOAD, type ProxyParse } from '../src/proxy/protocol.js';
import { serve } from '../src/server/server.js';
import { proxyV1, proxyV2, V2_SIGNATURE } from './helpers/proxy-header.js';
import { rawRequest, RawClient, curl } from './helpers/net.js';
import { startCli } from './helpers/cli.js';

const GET = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1');

/** Every prefix shorter than the preamble needs more; every longer one gives the same result. */
function parseAtEverySplit(preamble: Buffer): ProxyParse {
  const whole = Buffer.concat([preamble, GET]);
  const full = parseProxyHeader(whole);
  assert.equal(full.kind, 'done', `whole input: ${JSON.stringify(full)}`);
  for (let k = 0; k <= whole.length; k++) {
    const r = parseProxyHeader(whole.subarray(0, k));
    if (k < preamble.length) assert.equal(r.kind, 'need-more', `prefix of ${k} bytes`);
    else assert.deepEqual(r, full, `prefix of ${k} bytes`);
  }
  assert.equal((full as { consumed: number }).consumed, preamble.length);
  return full;
}

const header = (r: ProxyParse) => (r.kind === 'done' ? r.header : assert.fail(`expected done, got ${JSON.stringify(r)}`));

test('v1 TCP4 and TCP6: addresses and ports, at every split point', () => {
  const h4 = header(parseAtEverySplit(proxyV1('192.0.2.10', '198.51.100.1', 56324, 443)));
  assert.deepEqual(h4, { version: 1, command: 'proxy', source: { address: '192.0.2.10', port: 56324 }, destination: { address: '198.51.100.1', port: 443 }, tls: false });
  const h6 = header(parseAtEverySplit(proxyV1('2001:db8::1', '2001:db8::2', 1, 65535)));
  assert.deepEqual(h6.source, { address: '2001:db8::1', port: 1 });
  assert.deepEqual(h6.destination, { address: '2001:db8::2', port: 65535 });
});

test('v1 UNKNOWN (with or without the rest of the line) carries no address', () => {
  for (const line of ['PROXY UNKNOWN\r\n', 'PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n']) {
    const h = header(parseAtEverySplit(Buffer.from(line, 'latin1')));
    assert.equal(h.source, null);
    assert.equal(h.command, 'proxy');
  }
});

test('v1 at the maximum length is accepted; one byte more without CRLF is rejected', () => {
  const longest = Buffer.from('PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n', 'latin1');
  assert.equal(longest.length, 104);
  header(parseAtEverySplit(longest));
  const unknown = Buffer.from(`PROXY UNKNOWN ${'x'.repeat(V1_MAX_LENGTH - 16)}\r\n`, 'latin1');
  assert.equal(unknown.length, V1_MAX_LENGTH);
  header(parseAtEverySplit(unknown));
  const oneMore = Buffer.from(`PROXY UNKNOWN ${'x'.repeat(V1_MAX_LENGTH - 15)}\r\n`, 'latin1');
  assert.equal(oneMore.length, V1_MAX_LENGTH + 1);
  assert.match(reason(parseProxyHeader(oneMore)), /no CRLF within 107 bytes/, 'a 108-byte line');
  const tooLong = Buffer.from(`PROXY UNKNOWN ${'x'.repeat(V1_MAX_LENGTH)}\r\n`, 'latin1');
  assert.equal(parseProxyHeader(tooLong.subarray(0, V1_MAX_LENGTH - 2)).kind, 'need-more');
  assert.match(reason(parseProxyHeader(tooLong.subarray(0, V1_MAX_LENGTH - 1))), /no CRLF within 107 bytes/, 'rejected as soon as the CR is overdue');
});

test('v2 PROXY over IPv4 and IPv6, at every split point', () => {
  const h4 = header(parseAtEverySplit(proxyV2({ src: '203.0.113.7', dst: '10.0.0.1', sport: 40000, dport: 80 })));
  assert.deepEqual(h4, { version: 2, command: 'proxy', source: { address: '203.0.113.7', port: 40000 }, destination: { address: '10.0.0.1', port: 80 }, tls: false });
  const h6 = header(parseAtEverySplit(proxyV2({ src: '2001:db8:0:0:1:0:0:1', dst: 'fe80::1', sport: 1234, dport: 8443 })));
  assert.deepEqual(h6.source, { address: '2001:db8::1:0:0:1', port: 1234 }, 'RFC 5952 text: the first of two equal zero runs is compressed');
  assert.deepEqual(h6.destination, { address: 'fe80::1', port: 8443 });
  const udp = header(parseAtEverySplit(proxyV2({ family: 0x12, src: '192.0.2.1', sport: 53 })));
  assert.equal(udp.source?.address, '192.0.2.1');
});

test('v2 LOCAL (health checks), UNSPEC and UNIX carry no address to believe', () => {
  const local = header(parseAtEverySplit(proxyV2({ command: 'local' })));
  assert.deepEqual(local, { version: 2, command: 'local', source: null, destination: null, tls: false });
  // LOCAL with an address block: still discarded, as the spec says.
  assert.equal(header(parseAtEverySplit(proxyV2({ command: 'local', src: '192.0.2.1' }))).source, null);
  assert.equal(header(parseAtEverySplit(proxyV2({ family: 0x00 }))).source, null);
  assert.equal(header(parseAtEverySplit(proxyV2({ family: 0x31 }))).source, null);
});

test('v2 TLVs are skipped (and the SSL TLV marks the client as TLS)', () => {
  const tlvs: Array<[number, Buffer]> = [[0x01, Buffer.from('h2')], [0x04, Buffer.alloc(0)], [0xea, Buffer.from('vpce-0123456789abcdef')]];
  const h = header(parseAtEverySplit(proxyV2({ src: '192.0.2.1', sport: 5, tlvs })));
  assert.equal(h.source?.address, '192.0.2.1');
  assert.equal(h.tls, false);
  const ssl = Buffer.from([0x01, 0, 0, 0, 0]); // client: PP2_CLIENT_SSL, verify: 0
  assert.equal(header(parseAtEverySplit(proxyV2({ src: '192.0.2.1', tlvs: [[0x20, ssl]] }))).tls, true);
  const notSsl = Buffer.from([0x00, 0, 0, 0, 0]);
  assert.equal(header(parseAtEverySplit(proxyV2({ src: '192.0.2.1', tlvs: [[0x20, notSsl]] }))).tls, false);
});

function reason(r: ProxyParse): string {
  return r.kind === 'error' ? r.reason : assert.fail(`expected an error, got ${JSON.stringify(r)}`);
}

/** The error is reported as soon as the first byte that makes it one arrives, not later. */
function rejectedAt(bytes: Buffer, at: number): string {
  for (let k = 0; k < at; k++) assert.equal(parseProxyHeader(bytes.subarray(0, k)).kind, 'need-more', `prefix of ${k} bytes`);
  return reason(parseProxyHeader(bytes.subarray(0, at + 1)));
}

test('a connection that starts with HTTP (no preamble) is rejected at its first byte', () => {
  assert.match(rejectedAt(GET, 0), /no PROXY protocol preamble/);
  assert.match(rejectedAt(Buffer.from('PRI * HTTP/2.0\r\n'), 2), /no PROXY protocol preamble/);
  assert.match(rejectedAt(Buffer.from('\r\n\r\nGET'), 4), /no PROXY protocol preamble/);
});

test('malformed v1 lines are rejected', () => {
  const bad = [
    'PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n',
    'PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n',
    'PROXY TCP4 ::1 ::1 1 2\r\n',
    'PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n',
    'PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX',
    'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n',
    'PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n',
    'proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n',
  ];
  for (const line of bad) assert.equal(parseProxyHeader(Buffer.from(line, 'latin1')).kind, 'error', JSON.stringify(line));
});

test('malformed and oversized v2 headers are rejected, as early as their fixed part allows', () => {
  const good = proxyV2({ src: '192.0.2.1', sport: 1 });
  const withByte = (i: number, v: number) => { const b = Buffer.from(good); b[i] = v; return b; };
  assert.match(rejectedAt(withByte(12, 0x11), 12), /unsupported version/);
  assert.match(rejectedAt(withByte(12, 0x22), 12), /unknown command/);
  assert.match(rejectedAt(withByte(13, 0x13), 13), /unknown address family/);
  assert.match(rejectedAt(withByte(13, 0x41), 13), /unknown address family/);
  assert.match(rejectedAt(withByte(7, 0x00), 7), /no PROXY protocol preamble/);
  const huge = proxyV2({ src: '192.0.2.1', length: V2_MAX_PAYLOAD + 1 });
  assert.match(reason(parseProxyHeader(huge.subarray(0, 16))), /more than the 4096 accepted/, 'oversized: rejected from the length alone');
  assert.match(reason(parseProxyHeader(proxyV2({ src: '192.0.2.1', length: 11 }))), /shorter than its addresses/);
  assert.match(reason(parseProxyHeader(proxyV2({ src: '2001:db8::1', length: 35 }))), /shorter than its addresses/);
  // A TLV that claims 9 bytes where the header has 1 left.
  const fixed = Buffer.concat([good.subarray(0, 14), Buffer.from([0, 16]), good.subarray(16, 28), Buffer.from([0x01, 0x00, 0x09, 0x41])]);
  assert.match(reason(parseProxyHeader(fixed)), /malformed TLV/);
  assert.equal(parseProxyHeader(V2_SIGNATURE).kind, 'need-more');
});

test('IPv6 text: RFC 5952 compression and IPv4-mapped addresses', () => {
  const b = (words: number[]) => { const out = Buffer.alloc(16); words.forEach((w, i) => out.writeUInt16BE(w, 2 * i)); return out; };
  assert.equal(ipv6(b([0, 0, 0, 0, 0, 0, 0, 1]), 0), '::1');
  assert.equal(ipv6(b([0, 0, 0, 0, 0, 0, 0, 0]), 0), '::');
  assert.equal(ipv6(b([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1]), 0), '2001:db8:0:1:1:1:1:1', 'a single zero word is not compressed');
  assert.equal(ipv6(b([0x2001, 0, 0, 1, 0, 0, 0, 1]), 0), '2001:0:0:1::1', 'the longest run wins');
  assert.equal(ipv6(b([0xfe80, 0, 0, 0, 0xabcd, 0, 0, 0]), 0), 'fe80::abcd:0:0:0', 'the first of equal runs');
  assert.equal(ipv6(b([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201]), 0), '::ffff:192.0.2.1');
});

// ---- the accept path, over real sockets ----

async function echoServer(extra: Parameters<typeof serve>[1] = {}) {
  return serve((req) => ({
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ remoteAddress: req.remoteAddress, scheme: req.scheme, path: req.path }),
  }), { port: 0, proxyProtocol: true, ...extra });
}

const bodyOf = (raw: string) => JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { remoteAddress: string; scheme: string; path: string };

test('serve({ proxyProtocol }): the preamble\'s address becomes req.remoteAddress (preamble and request in one write)', async () => {
  const srv = await echoServer();
  try {
    const req = Buffer.from('GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const v2 = await rawRequest(srv.port, Buffer.concat([proxyV2({ src: '203.0.113.9', sport: 4000, dport: srv.port }), req]));
    assert.match(v2, /^HTTP\/1\.1 200 /);
    assert.deepEqual(bodyOf(v2), { remoteAddress: '203.0.113.9', scheme: 'http', path: '/a' });
    const v1 = await rawRequest(srv.port, Buffer.concat([proxyV1('2001:db8::5', '::1', 4000, srv.port), req]));
    assert.equal(bodyOf(v1).remoteAddress, '2001:db8::5');
    const tls = await rawRequest(srv.port, Buffer.concat([proxyV2({ src: '203.0.113.9', tlvs: [[0x20, Buffer.from([1, 0, 0, 0, 0])]] }), req]));
    assert.equal(bodyOf(tls).scheme, 'https', 'the SSL TLV: the client spoke TLS to the balancer');
  } finally {
    await srv.close();
  }
});

test('serve({ proxyProtocol }): a preamble trickling in byte by byte, then two keep-alive requests', async () => {
  const srv = await echoServer();
  const c = new RawClient(srv.port);
  try {
    await c.connected;
    const pre = proxyV2({ src: '198.51.100.77', sport: 1, dport: 2, tlvs: [[0x04, Buffer.alloc(3)]] });
    for (const byte of pre) { c.send(Buffer.from([byte])); await delay(2); }
    c.send('GET /1 HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.until((out) => out.includes('"/1"'));
    c.send('GET /2 HTTP/1.1\r\nHost: x\r\n\r\n');
    const out = await c.until((o) => o.includes('"/2"'));
    assert.equal((out.match(/198\.51\.100\.77/g) ?? []).length, 2, 'both requests see the preamble\'s address');
  } finally {
    c.close();
    await srv.close();
  }
});

test('serve({ proxyProtocol }): LOCAL keeps the socket\'s address', async () => {
  const srv = await echoServer();
  try {
    const raw = await rawRequest(srv.port, Buffer.concat([proxyV2({ command: 'local' }), Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]));
    assert.equal(bodyOf(raw).remoteAddress, '127.0.0.1');
  } finally {
    await srv.close();
  }
});

test('serve({ proxyProtocol }): missing, malformed or slow preambles are closed with no response', async () => {
  const srv = await echoServer({ headersTimeoutMs: 300 });
  try {
    assert.equal(await rawRequest(srv.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'), '', 'plain HTTP');
    assert.equal(await rawRequest(srv.port, 'PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n'), '', 'bad port');
    assert.equal(await rawRequest(srv.port, proxyV2({ src: '192.0.2.1', length: 60000 })), '', 'oversized v2');
    const c = new RawClient(srv.port);
    await c.connected;
    const started = Date.now();
    c.send(proxyV2({ src: '192.0.2.1' }).subarray(0, 10));
    const out = await c.until((_o, closed) => closed, 5000);
    const took = Date.now() - started;
    assert.equal(out, '');
    assert.ok(took >= 250 && took < 4000, `closed by the headers timeout (300 ms) after ${took} ms`);
    // The server is still fine.
    const ok = await rawRequest(srv.port, Buffer.concat([proxyV1('192.0.2.2', '192.0.2.3', 1, 2), Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]));
    assert.equal(bodyOf(ok).remoteAddress, '192.0.2.2');
  } finally {
    await srv.close();
  }
});

test('close() while a connection waits for its preamble: it is cut at the deadline', async () => {
  const srv = await echoServer({ headersTimeoutMs: 60_000 });
  const c = new RawClient(srv.port);
  await c.connected;
  c.send('PROXY TCP4 ');
  await delay(50);
  const started = Date.now();
  await srv.close(300);
  assert.ok(Date.now() - started < 3000, 'close() resolved soon after its deadline');
  await c.until((_o, closed) => closed, 2000);
  c.close();
});

test('the CLI with --proxy-protocol: curl --haproxy-protocol (v1) is served, plain curl gets no response', { timeout: 30_000 }, async () => {
  const srv = await startCli(['--workers', '1', '--proxy-protocol']);
  try {
    const ok = await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '--haproxy-protocol', `${srv.url}/`]);
    assert.equal(ok.stdout, '200');
    const plain = await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '3', `${srv.url}/`]);
    assert.notEqual(plain.code, 0, 'curl fails: the connection closed without a response');
    assert.equal(plain.stdout, '000');
  } finally {
    await srv.stop();
  }
});
