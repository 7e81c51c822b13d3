// handleConnection over TLS: the connection code only needs a Duplex, so a tls.Server's sockets
// work as they are. A throw-away self-signed certificate is made with the openssl command (the
// tests are skipped, with the reason, when it is missing); clients are curl -k and https.request
// with rejectUnauthorized: false. Every test has a deadline; servers and connections are closed.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { handleConnection, demoSite, SITE_DIR, type Handler } from '../src/index.js';
import { curl } from './helpers/net.js';

const T = { timeout: 8_000 };

/** Why the tests cannot run here, or null. */
function opensslMissing(): string | null {
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe', timeout: 5000 });
    return null;
  } catch (err) {
    return `openssl is not available (${(err as Error).message.split('\n')[0]})`;
  }
}

/** A self-signed P-256 certificate for 127.0.0.1, valid one day, in `dir`. */
function makeCert(dir: string): { key: Buffer; cert: Buffer } {
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'pipe', timeout: 10_000 });
  return { key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) };
}

interface TlsServer {
  port: number;
  base: string;
  /** Connections accepted so far. */
  accepted: number;
  /** Stops listening, cuts the open connections and waits until every handleConnection settled. */
  close(): Promise<void>;
}

async function startTls(creds: { key: Buffer; cert: Buffer }, handler: Handler): Promise<TlsServer> {
  const sockets = new Set<tls.TLSSocket>();
  const done: Promise<void>[] = [];
  const server = tls.createServer(creds, (socket) => {
    st.accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    done.push(handleConnection(socket, handler, { onError: (err) => console.error('handler error:', err) }));
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const st: TlsServer = {
    port,
    base: `https://127.0.0.1:${port}`,
    accepted: 0,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
      await Promise.all(done);
    },
  };
  return st;
}

/** POST (or another method) with https.request, trusting the self-signed certificate. */
function httpsRequest(port: number, opts: { method?: string; path?: string; headers?: Record<string, string>; chunks?: (string | Buffer)[]; agent?: https.Agent }) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer; reused: boolean }>((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port, method: opts.method ?? 'POST', path: opts.path ?? '/', headers: opts.headers,
      rejectUnauthorized: false, agent: opts.agent ?? false, timeout: 5000,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), reused: req.reusedSocket }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('https.request timed out')));
    req.on('error', reject);
    for (const c of opts.chunks ?? []) req.write(c);
    req.end();
  });
}

const skipReason = opensslMissing();
if (skipReason) console.log(`tls.test: skipping, ${skipReason}`);

describe('handleConnection on a TLS socket', { timeout: 30_000 }, () => {
  let dir: string;
  let creds: { key: Buffer; cert: Buffer };
  let site: TlsServer | undefined;
  let custom: TlsServer | undefined;
  const hello = fs.readFileSync(path.join(SITE_DIR, 'hello.html'));
  const notFound = fs.readFileSync(path.join(SITE_DIR, '404.html'));

  const bodies: { method: string; path: string; text: string; length: string | undefined; chunked: boolean }[] = [];
  const textHandler: Handler = async (req) => {
    const text = await req.text();
    bodies.push({ method: req.method, path: req.path, text, length: req.headers.get('content-length'), chunked: req.headers.has('transfer-encoding') });
    const digest = crypto.createHash('sha256').update(text).digest('hex');
    return {
      status: req.path === '/created' ? 201 : 200,
      headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Remote': String(req.remoteAddress) },
      body: `${req.method} ${req.path} ${Buffer.byteLength(text)} ${digest}\n${text.length <= 100 ? text : ''}`,
    };
  };

  before(async () => {
    if (skipReason) return;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-tls-'));
    creds = makeCert(dir);
    site = await startTls(creds, demoSite({ sleepMs: 50 }));
    custom = await startTls(creds, textHandler);
  });
  after(async () => {
    await site?.close();
    await custom?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('curl -k: GET / is the hello page, /sleep the same after the wait, anything else the 404 page', T, async (t) => {
    if (skipReason) return t.skip(skipReason);
    const base = site!.base;
    const fmt = '\n|%{http_code}|%{content_type}|%{size_download}';
    const split = (out: string) => {
      const i = out.lastIndexOf('\n|');
      return { body: out.slice(0, i), meta: out.slice(i + 2).split('|') };
    };

    const a = await curl(['-sk', '-w', fmt, `${base}/`]);
    assert.equal(a.code, 0, a.stderr);
    let r = split(a.stdout);
    assert.equal(r.meta[0], '200');
    assert.equal(r.meta[1], 'text/html; charset=utf-8');
    assert.equal(Buffer.from(r.body, 'latin1').equals(hello), true, r.body);
    assert.equal(Number(r.meta[2]), hello.length);

    const t0 = Date.now();
    const s = await curl(['-sk', '-w', fmt, `${base}/sleep`]);
    assert.ok(Date.now() - t0 >= 45, 'the /sleep wait happened');
    r = split(s.stdout);
    assert.equal(r.meta[0], '200');
    assert.ok(Buffer.from(r.body, 'latin1').equals(hello));

    const n = await curl(['-sk', '-w', fmt, `${base}/no/such/page`]);
    r = split(n.stdout);
    assert.equal(r.meta[0], '404');
    assert.ok(Buffer.from(r.body, 'latin1').equals(notFound));
    assert.match(r.body, /<h1>Oops!<\/h1>/);

    // raw heads over TLS: Content-Length, a Date, no Connection: close
    const h = await curl(['-sk', '-D', '-', '-o', '/dev/null', `${base}/`]);
    assert.match(h.stdout, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(h.stdout, new RegExp(`\\r\\nContent-Length: ${hello.length}\\r\\n`, 'i'));
    assert.match(h.stdout, /\r\nDate: /i);
    assert.doesNotMatch(h.stdout, /\r\nConnection: close/i);

    // without -k curl refuses the self-signed certificate: it really is TLS
    const strict = await curl(['-s', '-o', '/dev/null', `${base}/`]);
    assert.equal(strict.code, 60, `curl exit code for an untrusted certificate: ${strict.code}`);
  });

  test('keep-alive over TLS: two URLs in one curl call share one connection', T, async (t) => {
    if (skipReason) return t.skip(skipReason);
    const base = site!.base;
    const before = site!.accepted;
    const r = await curl(['-sk', '-o', '/dev/null', '-o', '/dev/null', '-o', '/dev/null', '-w', '%{http_code} %{num_connects}\n', `${base}/`, `${base}/sleep`, `${base}/missing`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '200 1\n200 0\n404 0\n');
    assert.equal(site!.accepted - before, 1, 'the server accepted one connection');

    // HEAD and a pipelined-looking burst through one agent socket
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
    try {
      const first = await httpsRequest(site!.port, { method: 'GET', path: '/', agent });
      const second = await httpsRequest(site!.port, { method: 'HEAD', path: '/', agent });
      assert.equal(first.status, 200);
      assert.ok(first.body.equals(hello));
      assert.equal(second.status, 200);
      assert.equal(second.headers['content-length'], String(hello.length));
      assert.equal(second.body.length, 0);
      assert.equal(second.reused, true, 'the second request went over the same TLS connection');
    } finally {
      agent.destroy();
    }
  });

  test('https.request POST: the body is read by the handler with await req.text()', T, async (t) => {
    if (skipReason) return t.skip(skipReason);
    const port = custom!.port;
    const sha = (b: string | Buffer) => crypto.createHash('sha256').update(b).digest('hex');

    const small = 'name=sluice&tls=yes ✓';
    const a = await httpsRequest(port, { path: '/form', headers: { 'Content-Type': 'text/plain', 'Content-Length': String(Buffer.byteLength(small)) }, chunks: [small] });
    assert.equal(a.status, 200);
    assert.equal(a.headers['content-length'], String(a.body.length));
    assert.equal(a.body.toString(), `POST /form ${Buffer.byteLength(small)} ${sha(small)}\n${small}`);
    assert.equal(a.headers['x-remote'], '127.0.0.1', 'remoteAddress comes through from the TLS socket');

    // a larger body in several writes, chunked (no Content-Length given), answered 201
    const parts = Array.from({ length: 8 }, (_, i) => `${i}:`.padEnd(64 * 1024, String.fromCharCode(97 + i)));
    const whole = parts.join('');
    const b = await httpsRequest(port, { path: '/created', chunks: parts });
    assert.equal(b.status, 201);
    assert.equal(b.body.toString(), `POST /created ${whole.length} ${sha(whole)}\n`);

    // PUT with an empty body
    const c = await httpsRequest(port, { method: 'PUT', path: '/empty', headers: { 'Content-Length': '0' } });
    assert.equal(c.status, 200);
    assert.equal(c.body.toString(), `PUT /empty 0 ${sha('')}\n`);

    assert.deepEqual(bodies.map((x) => [x.method, x.path, x.length, x.chunked, x.text.length]), [
      ['POST', '/form', String(Buffer.byteLength(small)), false, small.length],
      ['POST', '/created', undefined, true, whole.length],
      ['PUT', '/empty', '0', false, 0],
    ]);

    // and curl -k with a body over the same handler
    const d = await curl(['-sk', '--data-binary', 'from curl', `${custom!.base}/curl`]);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(d.stdout, `POST /curl 9 ${sha('from curl')}\nfrom curl`);

    // Expect: 100-continue: the server answers 100 over TLS when the handler reads the body
    const big = crypto.randomBytes(300 * 1024).toString('hex');
    const file = path.join(dir, 'big.txt');
    fs.writeFileSync(file, big);
    const e = await curl(['-skv', '-H', 'Expect: 100-continue', '--data-binary', `@${file}`, `${custom!.base}/big`]);
    assert.equal(e.code, 0, e.stderr);
    assert.ok(e.stderr.includes('< HTTP/1.1 100 Continue'), e.stderr);
    assert.equal(e.stdout, `POST /big ${big.length} ${sha(big)}\n`);

    // beyond the default 1 MiB body limit (curl now asks for 100 by itself): 413 instead of 100, then close
    const tooBig = crypto.randomBytes(1024 * 1024 + 100);
    const bigFile = path.join(dir, 'too-big.bin');
    fs.writeFileSync(bigFile, tooBig);
    const before = bodies.length;
    const f = await curl(['-skv', '--data-binary', `@${bigFile}`, '-w', '|%{http_code}', `${custom!.base}/too-big`]);
    assert.equal(f.code, 0, f.stderr);
    assert.ok(f.stderr.includes('> Expect: 100-continue'), 'curl asked for 100');
    assert.ok(!f.stderr.includes('< HTTP/1.1 100 Continue'), 'no 100 for a body that is refused');
    assert.match(f.stderr, /< Connection: close/i);
    assert.match(f.stdout, /\|413$/);
    assert.equal(bodies.length, before, 'the handler never saw it');
  });

  test('closing: the server stops and every handleConnection promise settles', T, async (t) => {
    if (skipReason) return t.skip(skipReason);
    // an idle kept-alive connection is open while we close
    const sock = tls.connect({ host: '127.0.0.1', port: site!.port, rejectUnauthorized: false });
    sock.on('error', () => {});
    await new Promise<void>((resolve, reject) => { sock.once('secureConnect', () => resolve()); sock.once('error', reject); });
    sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const got = await new Promise<string>((resolve) => {
      let s = '';
      sock.on('data', (d: Buffer) => { s += d.toString('latin1'); if (s.includes('</html>')) resolve(s); });
    });
    assert.match(got, /^HTTP\/1\.1 200 OK\r\n/);
    const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
    await site!.close();
    site = undefined;
    await closed;
    assert.equal(sock.destroyed, true);
  });
});
