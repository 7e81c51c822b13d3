// HTTP/2 through serve({tls}): node:http2 and curl clients against one sluice handler, checking
// that a stream gets the same request fields, body handling, limits and errors as an HTTP/1.1
// request on the same port. Servers run in this process (port 0); every test has a deadline.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { HttpError, type Handler, type Server, type ServeOptions, type SluiceRequest } from '../src/index.js';
import { curl } from './helpers/net.js';
import { h1get, h2connect, h2get, serveTls, tempCert } from './helpers/tls.js';

const T = { timeout: 15_000 };
const { local, cleanup } = tempCert('sluice-h2-');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const start = (handler: Handler, extra: Partial<ServeOptions> = {}) => serveTls(handler, local, extra);
const connect = (origin: string) => h2connect(origin, local.cert);

after(cleanup);

// Responses an app builds once and returns again and again, sharing one frozen header object:
// the HEADERS built from it are cached, and must follow the status and length of each response.
const PREPARED_FIELDS = Object.freeze({ 'Content-Type': 'text/plain', ETag: '"p1"', 'Cache-Control': 'no-cache' });
const PREPARED = Object.freeze({ status: 200, headers: PREPARED_FIELDS, body: 'prepared body\n' });
const PREPARED_SHORT = Object.freeze({ status: 200, headers: PREPARED_FIELDS, body: 'short\n' });
const PREPARED_GONE = Object.freeze({ status: 410, headers: PREPARED_FIELDS, body: 'gone\n' });

describe('HTTP/2 and HTTP/1.1 on one TLS port, one handler', { timeout: 60_000 }, () => {
  let server: Server;
  let origin: string;
  let release: (() => void) | null = null;
  before(async () => {
    ({ server, origin } = await start((async (req: SluiceRequest) => {
      switch (req.path) {
        case '/fields':
          return {
            headers: { 'Content-Type': 'application/json', Connection: 'keep-alive', 'X-Many': ['a', 'b'] },
            body: JSON.stringify({
              method: req.method, target: req.target, path: req.path, query: req.query, scheme: req.scheme, host: req.host,
              remote: req.remoteAddress, cookie: req.headers.get('cookie') ?? null, custom: req.headers.getAll('x-custom'),
              hostField: req.headers.get('host') ?? null, hasBody: req.hasBody, pseudo: req.headers.has(':path'),
            }),
          };
        case '/echo': {
          const body = await req.body();
          return { headers: { 'Content-Type': 'application/octet-stream' }, body };
        }
        case '/stream-echo':
          return { body: req.stream() };
        case '/throw': throw new Error('boom');
        case '/teapot': throw new HttpError(418, "I'm a teapot");
        case '/bad-header': return { headers: { 'X-Bad': 'a\r\nb' }, body: 'no' };
        case '/slow-read': {
          await new Promise<void>((r) => { release = r; });
          return { body: `${(await req.body()).length}` };
        }
        case '/big': {
          let produced = 0;
          const chunk = Buffer.alloc(64 * 1024, 120);
          const body = new Readable({
            read() { produced += chunk.length; this.push(produced > 8 * 1024 * 1024 ? null : chunk); },
          });
          (server as unknown as { produced: () => number }).produced = () => produced;
          return { body };
        }
        case '/length': return { headers: { 'Content-Type': 'text/plain' }, body: 'twelve bytes' };
        case '/prepared': return req.query === 'short' ? PREPARED_SHORT : req.query === 'gone' ? PREPARED_GONE : PREPARED;
        default: return { status: 404, body: 'not found\n' };
      }
    }) as Handler, { maxBodySize: 1024 * 1024 }));
  });
  after(() => server.close(1000));

  test('the request fields are the same over h2 as over HTTP/1.1 (scheme https, host from :authority)', T, async () => {
    const h2 = await h2get(origin, local.cert, { ':path': '/fields?a=1&b=2', ':authority': `127.0.0.1:${server.port}`, cookie: ['x=1', 'y=2'], 'x-custom': 'v1' });
    const h1 = await h1get(origin, local.cert, { path: '/fields?a=1&b=2', headers: { cookie: 'x=1; y=2', 'x-custom': 'v1' } });
    assert.equal(h2.status, 200);
    assert.equal(h1.alpn, false); // https.request offers no ALPN: HTTP/1.1, sluice's engine
    const a = JSON.parse(h2.body.toString());
    const b = JSON.parse(h1.body.toString());
    assert.deepEqual(a, b);
    assert.equal(a.scheme, 'https');
    assert.equal(a.host, `127.0.0.1:${server.port}`);
    assert.equal(a.cookie, 'x=1; y=2');
    assert.equal(a.remote, '127.0.0.1');
    assert.equal(a.pseudo, false);
    // Connection-specific fields are dropped for h2; repeated fields stay repeated.
    assert.equal(h2.headers['connection'], undefined);
    assert.equal(h2.headers['x-many'], 'a, b');
  });

  test('POST bodies over both protocols (buffered and streamed back)', T, async () => {
    const payload = Buffer.alloc(300_000, 7);
    for (const p of ['/echo', '/stream-echo']) {
      const h2 = await h2get(origin, local.cert, { ':method': 'POST', ':path': p }, payload);
      assert.equal(h2.status, 200, p);
      assert.ok(h2.body.equals(payload), `${p} over h2`);
      const h1 = await h1get(origin, local.cert, { path: p, method: 'POST' }, payload);
      assert.ok(h1.body.equals(payload), `${p} over HTTP/1.1`);
    }
  });

  test('curl --http2 and --http1.1 get the same answer', T, async () => {
    for (const flag of ['--http2', '--http1.1']) {
      const r = await curl([flag, '--cacert', local.certFile, '--resolve', `localhost:${server.port}:127.0.0.1`, '-s', '-w', '\n%{http_version} %{http_code}', `https://localhost:${server.port}/length`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `twelve bytes\n${flag === '--http2' ? '2' : '1.1'} 200`);
    }
  });

  test('a throwing handler is a 500, an HttpError its status, a bad header a 500; the session survives', T, async () => {
    const s = connect(origin);
    try {
      const one = (p: string) => new Promise<number>((resolve, reject) => {
        const r = s.request({ ':path': p });
        r.on('response', (h) => resolve(Number(h[':status'])));
        r.on('error', reject);
        r.resume();
      });
      assert.equal(await one('/throw'), 500);
      assert.equal(await one('/teapot'), 418);
      assert.equal(await one('/bad-header'), 500);
      assert.equal(await one('/length'), 200);
    } finally { s.close(); }
  });

  test('a prepared response (frozen headers) served again and again: each one complete, with its own status, length and Date', T, async () => {
    const s = connect(origin);
    try {
      const one = (p: string, method = 'GET') => new Promise<{ h: Record<string, unknown>; body: string }>((resolve, reject) => {
        const r = s.request({ ':path': p, ':method': method });
        let h: Record<string, unknown> = {};
        let body = '';
        r.on('response', (x) => { h = x; });
        r.setEncoding('utf8');
        r.on('data', (c: string) => { body += c; });
        r.on('end', () => resolve({ h, body }));
        r.on('error', reject);
        r.end();
      });
      const seen: string[] = [];
      for (const [p, method, status, body] of [
        ['/prepared', 'GET', 200, 'prepared body\n'], ['/prepared', 'GET', 200, 'prepared body\n'],
        ['/prepared?short', 'GET', 200, 'short\n'], ['/prepared', 'HEAD', 200, ''], ['/prepared?gone', 'GET', 410, 'gone\n'],
        ['/prepared', 'GET', 200, 'prepared body\n'],
      ] as const) {
        const r = await one(p, method);
        assert.equal(r.h[':status'], status, `${method} ${p}`);
        assert.equal(r.body, body, `${method} ${p}`);
        assert.equal(r.h['content-length'], String(method === 'HEAD' ? 'prepared body\n'.length : body.length), `${method} ${p}`);
        assert.equal(r.h['etag'], '"p1"');
        assert.equal(r.h['cache-control'], 'no-cache');
        assert.equal(typeof r.h['date'], 'string');
        seen.push(r.h['date'] as string);
      }
      // The shared objects are as the app made them (nothing was added to them along the way).
      assert.deepEqual(Object.keys(PREPARED_FIELDS), ['Content-Type', 'ETag', 'Cache-Control']);
      // A Date from the clock of each response, not one frozen in a cached head.
      await sleep(1100);
      const later = await one('/prepared');
      assert.notEqual(later.h['date'], seen[0]);
    } finally { s.close(); }
  });

  test('HEAD gets the length of the GET and no body', T, async () => {
    const r = await h2get(origin, local.cert, { ':method': 'HEAD', ':path': '/length' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], '12');
    assert.equal(r.body.length, 0);
  });

  test('the body limit: a declared or a received body beyond maxBodySize is 413', T, async () => {
    const s = connect(origin);
    try {
      const declared = await new Promise<number>((resolve, reject) => {
        const r = s.request({ ':method': 'POST', ':path': '/echo', 'content-length': String(2 * 1024 * 1024) });
        r.on('response', (h) => resolve(Number(h[':status'])));
        r.on('error', reject);
        r.write('a bit');
      });
      assert.equal(declared, 413);
      // No content-length: the limit is found while reading.
      const status = await new Promise<number>((resolve, reject) => {
        const r = s.request({ ':method': 'POST', ':path': '/echo' });
        r.on('response', (h) => resolve(Number(h[':status'])));
        r.on('error', reject);
        r.resume();
        const chunk = Buffer.alloc(64 * 1024);
        let sent = 0;
        const pump = () => { while (sent < 3 * 1024 * 1024 && !r.destroyed) { sent += chunk.length; if (!r.write(chunk)) { r.once('drain', pump); return; } } r.end(); };
        pump();
      });
      assert.equal(status, 413);
    } finally { s.destroy(); }
  });

  test('request bodies have backpressure: a handler that does not read holds the client back', T, async () => {
    const s = connect(origin);
    try {
      const r = s.request({ ':method': 'POST', ':path': '/slow-read' });
      r.on('error', () => {});
      let acked = 0;
      const chunk = Buffer.alloc(16 * 1024);
      // Write callbacks fire once node:http2 has framed the data, which needs flow-control window.
      const total = 56 * chunk.length;
      for (let sent = 0; sent < total; sent += chunk.length) r.write(chunk, () => { acked += chunk.length; });
      r.end();
      await sleep(600);
      assert.ok(acked < 400 * 1024, `${acked} bytes went out while the handler was not reading`);
      release!();
      const body = await new Promise<string>((resolve) => { let b = ''; r.on('data', (d) => (b += d)); r.on('end', () => resolve(b)); });
      assert.equal(body, String(total));
    } finally { s.close(); }
  });

  test('response bodies have backpressure: a client that does not read stops the producer', T, async () => {
    const s = connect(origin);
    try {
      const r = s.request({ ':path': '/big' });
      r.on('error', () => {});
      r.pause();
      await new Promise((resolve) => r.once('response', resolve));
      await sleep(600);
      const produced = (server as unknown as { produced: () => number }).produced();
      assert.ok(produced < 2 * 1024 * 1024, `the handler's stream produced ${produced} bytes for a client that reads nothing`);
      let got = 0;
      r.on('data', (d: Buffer) => (got += d.length));
      r.resume();
      await new Promise((resolve) => r.once('end', resolve));
      assert.equal(got, 8 * 1024 * 1024);
    } finally { s.close(); }
  });
});
