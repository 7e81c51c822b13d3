// Where the layers meet, over real sockets: a PROXY preamble in front of a TLS handshake (HTTP/1.1
// and HTTP/2 after it), the handshake timeout after the preamble, trusted proxies and the fetch
// adapter's URL over HTTP/2.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { setTimeout as delay } from 'node:timers/promises';
import { fromFetch, type Handler, type Server } from '../src/index.js';
import { proxyV2 } from './helpers/proxy-header.js';
import { h2get, serveTls, tempCert } from './helpers/tls.js';

const whoami: Handler = (req) => ({
  status: 200,
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ addr: req.remoteAddress, scheme: req.scheme, host: req.host }),
});

const cert = tempCert('sluice-int-tls-');
after(() => cert.cleanup());

/**
 * A TCP connection that sends `preamble` and then speaks TLS over it, offering `alpn`. With
 * `coalesce`, the preamble and the ClientHello leave in one segment (the server must put back
 * what followed the preamble).
 */
function tlsAfterPreamble(port: number, preamble: Buffer, alpn: string[], coalesce = false, ms = 8000): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const raw = net.connect(port, '127.0.0.1');
    const t = setTimeout(() => { raw.destroy(); reject(new Error(`no TLS session within ${ms} ms`)); }, ms);
    raw.on('error', (e) => { clearTimeout(t); reject(e); });
    raw.once('connect', () => {
      if (coalesce) raw.cork();
      raw.write(preamble);
      const s = tls.connect({ socket: raw, ca: cert.local.cert, servername: 'localhost', ALPNProtocols: alpn });
      if (coalesce) setTimeout(() => raw.uncork(), 20);
      s.on('error', (e) => { clearTimeout(t); reject(e); });
      s.once('secureConnect', () => { clearTimeout(t); resolve(s); });
    });
  });
}

/** One HTTP/1.1 request on a TLS socket, the response read to its end (the request asks to close). */
function h1over(s: tls.TLSSocket, path: string, ms = 8000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => { s.destroy(); reject(new Error(`no response within ${ms} ms`)); }, ms);
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('end', () => { clearTimeout(t); s.end(); resolve(out); });
    s.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
  });
}

/** One HTTP/2 request on an already secured socket. */
function h2over(s: tls.TLSSocket, path: string, ms = 8000): Promise<string> {
  return new Promise((resolve, reject) => {
    const session = http2.connect('https://localhost', { createConnection: () => s });
    const t = setTimeout(() => { session.destroy(); reject(new Error(`no HTTP/2 response within ${ms} ms`)); }, ms);
    session.on('error', (e) => { clearTimeout(t); reject(e); });
    const req = session.request({ ':path': path });
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => { clearTimeout(t); session.close(); resolve(body); });
    req.on('error', (e) => { clearTimeout(t); session.destroy(); reject(e); });
    req.end();
  });
}

const SOURCE = { src: '203.0.113.7', dst: '192.0.2.1', sport: 4242, dport: 443 };

describe('PROXY protocol in front of TLS', () => {
  let server: Server;
  before(async () => {
    ({ server } = await serveTls(whoami, cert.local, { proxyProtocol: true, tls: { pairs: { cert: cert.local.cert, key: cert.local.key }, handshakeTimeoutMs: 800 }, headersTimeoutMs: 1500 }));
  });
  after(() => server.close(500));

  test('HTTP/1.1 after a v2 preamble sees the client the preamble names, over https', async () => {
    const s = await tlsAfterPreamble(server.port, proxyV2(SOURCE), ['http/1.1']);
    assert.equal(s.alpnProtocol, 'http/1.1');
    const res = await h1over(s, '/who');
    assert.match(res, /^HTTP\/1\.1 200 /);
    assert.deepEqual(JSON.parse(res.slice(res.indexOf('\r\n\r\n') + 4)), { addr: '203.0.113.7', scheme: 'https', host: 'localhost' });
  });

  test('HTTP/2 after a v2 preamble sees the same client', async () => {
    const s = await tlsAfterPreamble(server.port, proxyV2({ ...SOURCE, src: '2001:db8::5', dst: '2001:db8::1' }), ['h2']);
    assert.equal(s.alpnProtocol, 'h2');
    const body = JSON.parse(await h2over(s, '/who'));
    assert.equal(body.addr, '2001:db8::5');
    assert.equal(body.scheme, 'https');
  });

  test('a ClientHello in the same segment as the preamble is not lost', async () => {
    const s = await tlsAfterPreamble(server.port, proxyV2(SOURCE), ['http/1.1'], true);
    assert.match(await h1over(s, '/'), /"addr":"203\.0\.113\.7"/);
  });

  test('no preamble: closed without a response, and the server keeps serving', async () => {
    await assert.rejects(tlsAfterPreamble(server.port, Buffer.alloc(0), ['http/1.1'], false, 5000));
    const s = await tlsAfterPreamble(server.port, proxyV2(SOURCE), ['http/1.1']);
    assert.match(await h1over(s, '/'), /^HTTP\/1\.1 200 /);
  });

  test('the handshake timeout runs after the preamble: a preamble then silence is closed', async () => {
    const raw = net.connect(server.port, '127.0.0.1');
    raw.on('error', () => {});
    const started = Date.now();
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => { raw.destroy(); reject(new Error('still open after 6 s')); }, 6000);
      raw.once('connect', () => raw.write(proxyV2(SOURCE)));
      raw.resume();
      raw.once('close', () => { clearTimeout(t); resolve(); });
    });
    // The handshake timeout (800 ms), not the preamble's (1500 ms, already satisfied) nor never.
    const took = Date.now() - started;
    assert.ok(took >= 600, `closed too early: ${took} ms`);
    assert.ok(server.tls!.errors.timeouts >= 1, 'counted as a handshake timeout');
  });
});

describe('HTTP/2 and the connection info', () => {
  let trusting: Server, plain: Server;
  before(async () => {
    ({ server: trusting } = await serveTls(whoami, cert.local, { trustProxy: '127.0.0.1' }));
    ({ server: plain } = await serveTls(whoami, cert.local));
  });
  after(() => Promise.all([trusting.close(500), plain.close(500)]));

  const forwarded = { ':path': '/who', 'x-forwarded-for': '198.51.100.9, 127.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'example.org' };

  test('from a trusted proxy, X-Forwarded-* give remoteAddress, scheme and host', async () => {
    const res = await h2get(`https://127.0.0.1:${trusting.port}`, cert.local.cert, forwarded);
    assert.deepEqual(JSON.parse(res.body.toString()), { addr: '198.51.100.9', scheme: 'http', host: 'example.org' });
  });

  test('without trust, they are ordinary fields: the socket, https and :authority', async () => {
    const res = await h2get(`https://127.0.0.1:${plain.port}`, cert.local.cert, { ...forwarded, ':authority': 'h2.test:8443' });
    assert.deepEqual(JSON.parse(res.body.toString()), { addr: '127.0.0.1', scheme: 'https', host: 'h2.test:8443' });
  });
});

describe('a fetch app over HTTP/2', () => {
  let server: Server;
  before(async () => {
    const app = fromFetch((request: Request) => Response.json({ url: request.url, method: request.method }));
    ({ server } = await serveTls(app, cert.local));
  });
  after(() => server.close(500));

  test('request.url is the https:// URL the client asked for', async () => {
    const res = await h2get(`https://127.0.0.1:${server.port}`, cert.local.cert, { ':path': '/a/b?c=1', ':authority': `localhost:${server.port}` });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body.toString()), { url: `https://localhost:${server.port}/a/b?c=1`, method: 'GET' });
  });
});

describe('shutdown with a handshake under way after the preamble', () => {
  test('the shutdown deadline cuts it, not the (longer) handshake timeout', async () => {
    const { server } = await serveTls(whoami, cert.local, { proxyProtocol: true, tls: { pairs: { cert: cert.local.cert, key: cert.local.key }, handshakeTimeoutMs: 30_000 } });
    const raw = net.connect(server.port, '127.0.0.1');
    raw.on('error', () => {});
    raw.resume();
    const closed = new Promise<void>((resolve) => raw.once('close', () => resolve()));
    await new Promise<void>((resolve) => raw.once('connect', () => raw.write(proxyV2(SOURCE), () => resolve())));
    await delay(200); // the preamble is read and the handshake waits for a ClientHello
    const started = Date.now();
    const deadline = setTimeout(() => raw.destroy(), 10_000);
    await server.close(300);
    await closed;
    clearTimeout(deadline);
    const took = Date.now() - started;
    assert.ok(took < 5000, `close took ${took} ms`);
  });
});
