// Trusted proxies: CIDR matching, RFC 7239 Forwarded parsing, the right-to-left walk of the
// forwarding chain, then serve({ trustProxy }) over real sockets (a trusted and an untrusted
// loopback address) and the CLI's checks of its flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTrust, parseAddress, TrustListError } from '../src/proxy/trust.js';
import { forwardedView, nodeAddress, parseForwarded } from '../src/proxy/forwarded.js';
import { FieldList } from '../src/http/fields.js';
import { serve, type ServeOptions } from '../src/server/server.js';
import { runCli } from './helpers/cli.js';
import { getJson } from './helpers/load.js';

test('compileTrust: addresses, IPv4 and IPv6 CIDRs, keywords', () => {
  const t = compileTrust('127.0.0.1, 10.0.0.0/8,172.16.0.0/12,2001:db8::/32,::1');
  for (const a of ['127.0.0.1', '10.0.0.1', '10.255.255.255', '172.31.0.9', '2001:db8::1', '2001:db8:ffff::', '::1', '::ffff:10.1.2.3'])
    assert.equal(t(a), true, a);
  for (const a of ['127.0.0.2', '11.0.0.0', '172.32.0.0', '2001:db9::1', '::2', 'fe80::1', 'nonsense', '', undefined])
    assert.equal(t(a as string), false, String(a));
  const kw = compileTrust(['loopback', 'private', 'linklocal']);
  for (const a of ['127.9.9.9', '::1', '192.168.1.1', 'fd12::1', '169.254.1.1', 'fe80::abcd']) assert.equal(kw(a), true, a);
  for (const a of ['8.8.8.8', '2001:4860::8888', '192.169.0.1']) assert.equal(kw(a), false, a);
  assert.equal(compileTrust('0.0.0.0/0')('203.0.113.1'), true);
  assert.equal(compileTrust('10.1.2.3/31')('10.1.2.2'), true, 'a prefix that is not a multiple of 8');
  assert.equal(compileTrust('10.1.2.3/31')('10.1.2.4'), false);
  assert.equal(compileTrust('fe80::1%eth0')('fe80::1'), true, 'zone index ignored');
  assert.equal(compileTrust('')('127.0.0.1'), false, 'an empty list trusts nobody');
});

test('compileTrust: bad entries are named in the error', () => {
  for (const bad of ['10.0.0.0/33', '::/129', '10.0.0/8', 'example.com', '10.0.0.0/', '10.0.0.0/-1', '1.2.3.4/8/8'])
    assert.throws(() => compileTrust(bad), (e: unknown) => e instanceof TrustListError && e.message.includes(bad), bad);
});

test('parseAddress agrees with the textual forms it accepts', () => {
  assert.deepEqual(parseAddress('::ffff:1.2.3.4'), parseAddress('1.2.3.4'));
  assert.deepEqual(parseAddress('0:0:0:0:0:ffff:102:304'), parseAddress('1.2.3.4'));
  assert.deepEqual(parseAddress('2001:DB8::1'), parseAddress('2001:db8:0:0:0:0:0:1'));
  assert.equal(parseAddress('1.2.3'), null);
});

test('parseForwarded: RFC 7239 elements, quoted strings, several lines', () => {
  assert.deepEqual(parseForwarded(['for=192.0.2.60;proto=http;by=203.0.113.43', 'For="[2001:db8:cafe::17]:4711", for=unknown;host="a.example:8080"']), [
    { for: '192.0.2.60', proto: 'http', host: undefined },
    { for: '2001:db8:cafe::17', proto: undefined, host: undefined },
    { for: null, proto: undefined, host: 'a.example:8080' },
  ]);
  assert.deepEqual(parseForwarded([', for=192.0.2.1 , ,']), [{ for: '192.0.2.1', proto: undefined, host: undefined }], 'empty list elements');
  assert.deepEqual(parseForwarded(['for="192.0.2.43:47011" ; proto=https']), [{ for: '192.0.2.43', proto: 'https', host: undefined }]);
  assert.deepEqual(parseForwarded(['for=_hidden, for="\\"x"']), [{ for: null, proto: undefined, host: undefined }, { for: null, proto: undefined, host: undefined }]);
  for (const bad of ['for', 'for=', 'for=[::1]', 'for="unterminated', 'for=1.2.3.4 proto=http', 'for=a;;', '=x', 'f o=1', 'for=1.2.3.4;'])
    assert.equal(parseForwarded([bad]), null, bad);
});

test('nodeAddress: addresses with and without ports and brackets', () => {
  assert.equal(nodeAddress(' 192.0.2.1 '), '192.0.2.1');
  assert.equal(nodeAddress('192.0.2.1:8080'), '192.0.2.1');
  assert.equal(nodeAddress('[::1]:80'), '::1');
  assert.equal(nodeAddress('[::1]'), '::1');
  assert.equal(nodeAddress('2001:db8::1'), '2001:db8::1');
  for (const bad of ['', 'unknown', '[::1', '[::1]x', '999.1.1.1', '1.2.3.4:port', 'example.com']) assert.equal(nodeAddress(bad), null, bad);
});

function headers(fields: Record<string, string | string[]>): FieldList {
  const f = new FieldList();
  for (const [name, v] of Object.entries(fields)) for (const value of [v].flat()) f.add(name, name.toLowerCase(), value);
  return f;
}

const trusted = compileTrust('10.0.0.0/8,127.0.0.1');

test('X-Forwarded-For: the right-most untrusted hop is the client', () => {
  const view = (xff: string | string[], more: Record<string, string> = {}) => forwardedView(headers({ 'X-Forwarded-For': xff, ...more }), trusted, 'x-forwarded');
  assert.equal(view('203.0.113.5').remoteAddress, '203.0.113.5');
  assert.equal(view('6.6.6.6, 203.0.113.5').remoteAddress, '203.0.113.5', 'a spoofed left part is not believed');
  assert.equal(view('6.6.6.6, 203.0.113.5, 10.0.0.2, 10.0.0.3').remoteAddress, '203.0.113.5', 'trusted hops are skipped');
  assert.equal(view(['6.6.6.6', '203.0.113.5, 10.0.0.2']).remoteAddress, '203.0.113.5', 'several field lines are one list');
  assert.equal(view('10.0.0.9, 10.0.0.2').remoteAddress, '10.0.0.9', 'all trusted: the left-most');
  assert.equal(view('203.0.113.5:4711').remoteAddress, '203.0.113.5');
  assert.equal(view('garbage, 10.0.0.2').remoteAddress, '10.0.0.2', 'an unusable hop ends the walk at the last believable one');
  assert.equal(view('203.0.113.5, garbage').remoteAddress, undefined, 'an unusable nearest hop: nothing believed');
  assert.equal(view('').remoteAddress, undefined);
  assert.equal(view('6.6.6.6, 203.0.113.5, , 10.0.0.2,').remoteAddress, '203.0.113.5', 'empty list elements are skipped');
});

test('X-Forwarded-Proto/-Host: the entry of the client hop when lists line up, else the nearest proxy\'s', () => {
  const view = (fields: Record<string, string>) => forwardedView(headers(fields), trusted, 'x-forwarded');
  assert.deepEqual(view({ 'X-Forwarded-For': '203.0.113.5', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'shop.example' }),
    { remoteAddress: '203.0.113.5', scheme: 'https', host: 'shop.example' });
  assert.deepEqual(view({ 'X-Forwarded-For': '203.0.113.5, 10.0.0.2', 'X-Forwarded-Proto': 'https, http', 'X-Forwarded-Host': 'a.example, b.internal:8080' }),
    { remoteAddress: '203.0.113.5', scheme: 'https', host: 'a.example' });
  assert.equal(view({ 'X-Forwarded-For': '6.6.6.6, 203.0.113.5', 'X-Forwarded-Proto': 'http' }).scheme, 'http');
  assert.equal(view({ 'X-Forwarded-Proto': 'HTTPS' }).scheme, 'https');
  assert.equal(view({ 'X-Forwarded-Proto': 'gopher' }).scheme, undefined);
  for (const bad of ['a b', 'user@host', 'h/path', '', 'x'.repeat(300)]) assert.equal(view({ 'X-Forwarded-Host': bad }).host, undefined, bad);
  assert.equal(view({ 'X-Forwarded-Host': '[::1]:8080' }).host, '[::1]:8080');
});

test('Forwarded: the element of the right-most untrusted hop gives address, proto and host', () => {
  const view = (value: string) => forwardedView(headers({ Forwarded: value }), trusted, 'forwarded');
  assert.deepEqual(view('for=6.6.6.6;proto=http, for=203.0.113.5;proto=https;host=shop.example, for=10.0.0.2;proto=http;host=inner'),
    { remoteAddress: '203.0.113.5', scheme: 'https', host: 'shop.example' });
  assert.deepEqual(view('for="[2001:db8::9]:1234"'), { remoteAddress: '2001:db8::9' });
  assert.deepEqual(view('for=unknown;proto=https'), {}, 'the nearest hop is unknown: nothing believed');
  assert.deepEqual(view('for=1.2.3.4;proto=https, for=10.0.0.1;secret'), {}, 'malformed: the whole field is ignored');
  assert.deepEqual(forwardedView(headers({ 'X-Forwarded-For': '203.0.113.5' }), trusted, 'forwarded'), {}, 'X-Forwarded-For is not read in forwarded mode');
  assert.deepEqual(forwardedView(headers({ Forwarded: 'for=203.0.113.5' }), trusted, 'x-forwarded'), {}, 'Forwarded is not read in x-forwarded mode');
});

// ---- over real sockets ----

async function whoami(options: ServeOptions) {
  return serve((req) => ({ body: JSON.stringify({ remoteAddress: req.remoteAddress, scheme: req.scheme, host: req.host }) }), { port: 0, ...options });
}

const getFrom = (localAddress: string, port: number, headers: Record<string, string>) =>
  getJson<{ remoteAddress: string; scheme: string; host: string }>({ port, localAddress, headers: { Host: 'direct.example', ...headers } });

test('serve({ trustProxy }): forwarding fields are believed from a trusted peer only', async () => {
  const srv = await whoami({ trustProxy: '127.0.0.1' });
  try {
    const fields = { 'X-Forwarded-For': '6.6.6.6, 203.0.113.5', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'shop.example' };
    assert.deepEqual(await getFrom('127.0.0.1', srv.port, fields), { remoteAddress: '203.0.113.5', scheme: 'https', host: 'shop.example' });
    assert.deepEqual(await getFrom('127.0.0.2', srv.port, fields), { remoteAddress: '127.0.0.2', scheme: 'http', host: 'direct.example' },
      'from an untrusted peer the fields are ordinary headers');
  } finally {
    await srv.close();
  }
});

test('serve() without trustProxy ignores forwarding fields, even from loopback', async () => {
  const srv = await whoami({});
  try {
    const r = await getFrom('127.0.0.1', srv.port, { 'X-Forwarded-For': '203.0.113.5', Forwarded: 'for=203.0.113.6', 'X-Forwarded-Proto': 'https' });
    assert.deepEqual(r, { remoteAddress: '127.0.0.1', scheme: 'http', host: 'direct.example' });
  } finally {
    await srv.close();
  }
});

test('serve({ trustProxy, forwardedHeader: "forwarded" })', async () => {
  const srv = await whoami({ trustProxy: ['loopback'], forwardedHeader: 'forwarded' });
  try {
    const r = await getFrom('127.0.0.3', srv.port, { Forwarded: 'for=203.0.113.5;proto=https;host=shop.example', 'X-Forwarded-For': '6.6.6.6' });
    assert.deepEqual(r, { remoteAddress: '203.0.113.5', scheme: 'https', host: 'shop.example' });
  } finally {
    await srv.close();
  }
});

test('the CLI rejects bad --trust-proxy and --forwarded-header values with exit code 2', async () => {
  for (const [args, message] of [
    [['--trust-proxy', '10.0.0.0/40'], /--trust-proxy: bad prefix length in "10\.0\.0\.0\/40"/],
    [['--trust-proxy', 'proxy.internal'], /--trust-proxy: not an IP address or CIDR range: "proxy\.internal"/],
    [['--trust-proxy', ','], /needs at least one address/],
    [['--trust-proxy', '127.0.0.1', '--forwarded-header', 'x-real-ip'], /--forwarded-header must be x-forwarded or forwarded/],
    [['--forwarded-header', 'forwarded'], /--forwarded-header needs --trust-proxy/],
    [['--drain-delay', 'soon'], /--drain-delay must be a whole number/],
  ] as const) {
    const r = await runCli([...args, '--port', '0']);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, message);
  }
});

test('serve() with a bad trust list rejects before it listens', async () => {
  await assert.rejects(serve(() => ({}), { port: 0, trustProxy: '10.0.0.0/99' }), TrustListError);
});
