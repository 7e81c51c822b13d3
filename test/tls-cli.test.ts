// `sluice --tls-*` over real sockets: the real CLI as a child process, with curl, openssl
// s_client, fetch and node's https/http2 clients. Certificates are made with openssl in a temp
// folder. Every test has a deadline; every process is stopped (and killed if the test dies).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { runCli } from './helpers/cli.js';
import { curl } from './helpers/net.js';
import { makeTree } from './fixtures/static/harness.js';
import { h1get, h2get, makeCert, sClient, servedFingerprint, startTlsCli, type RunningTls } from './helpers/tls.js';

const T = { timeout: 30_000 };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-tls-cli-'));
const a = makeCert(dir, 'a', ['a.test', '*.a.test', 'localhost', '127.0.0.1']);
const b = makeCert(dir, 'b', ['b.test']);
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** curl against the server with the test CA, "localhost" resolved to 127.0.0.1. */
const curlTls = (srv: RunningTls, args: string[], ca = a.certFile) =>
  curl(['-s', '--cacert', ca, '--resolve', `localhost:${srv.port}:127.0.0.1`, '--resolve', `b.test:${srv.port}:127.0.0.1`, ...args]);

describe('sluice --tls-cert/--tls-key (demo site)', { timeout: 120_000 }, () => {
  let srv: RunningTls;
  before(async () => {
    srv = await startTlsCli(['--workers', '1', '--tls-cert', a.certFile, '--tls-key', a.keyFile, '--tls-cert', b.certFile, '--tls-key', b.keyFile]);
  });
  after(() => srv?.stop());

  test('the start-up line says https, both protocols and the names served', T, () => {
    assert.match(srv.output(), /listening on https:\/\/127\.0\.0\.1:\d+\/ \(HTTP\/2 and HTTP\/1\.1, certificates for a\.test, \*\.a\.test, localhost, 127\.0\.0\.1, b\.test\)/);
  });

  test('curl --http2 and --http1.1 get the demo page', T, async () => {
    const h1 = await curlTls(srv, ['--http1.1', '-o', '/dev/null', '-w', '%{http_version} %{http_code} %{size_download}', `https://localhost:${srv.port}/`]);
    const h2 = await curlTls(srv, ['--http2', '-o', '/dev/null', '-w', '%{http_version} %{http_code} %{size_download}', `https://localhost:${srv.port}/`]);
    assert.equal(h1.code, 0, h1.stderr);
    assert.match(h1.stdout, /^1\.1 200 [1-9]\d*$/);
    assert.match(h2.stdout, /^2 200 [1-9]\d*$/);
    assert.equal(h1.stdout.split(' ')[2], h2.stdout.split(' ')[2]);
  });

  test('ALPN: h2 when offered, http/1.1 otherwise', T, async () => {
    assert.match(await sClient(srv.port, ['-alpn', 'h2,http/1.1']), /ALPN protocol: h2/);
    assert.match(await sClient(srv.port, ['-alpn', 'http/1.1']), /ALPN protocol: http\/1\.1/);
    assert.match(await sClient(srv.port, []), /No ALPN negotiated/);
  });

  test('SNI picks the certificate carrying the name; unknown names get the first', T, async () => {
    const fa = new (await import('node:crypto')).X509Certificate(a.cert).fingerprint256;
    const fb = new (await import('node:crypto')).X509Certificate(b.cert).fingerprint256;
    assert.equal(await servedFingerprint(srv.port, 'b.test'), fb);
    assert.equal(await servedFingerprint(srv.port, 'a.test'), fa);
    assert.equal(await servedFingerprint(srv.port, 'www.a.test'), fa); // wildcard
    assert.equal(await servedFingerprint(srv.port, 'other.example'), fa);
    const viaCurl = await curlTls(srv, ['-o', '/dev/null', '-w', '%{http_code}', `https://b.test:${srv.port}/`], b.certFile);
    assert.equal(viaCurl.stdout, '200', viaCurl.stderr);
  });

  test('TLS 1.2 and 1.3 only, with forward-secret AEAD ciphers', T, async () => {
    assert.match(await sClient(srv.port, ['-tls1_3']), /New, TLSv1\.3/);
    assert.match(await sClient(srv.port, ['-tls1_2']), /New, TLSv1\.2, Cipher is ECDHE-ECDSA-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305)/);
    const old = await sClient(srv.port, ['-tls1_1']);
    assert.doesNotMatch(old, /New, TLSv1\.1/);
    const cbc = await sClient(srv.port, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-SHA']);
    assert.doesNotMatch(cbc, /Cipher is ECDHE-ECDSA-AES128-SHA/);
  });

  test('sessions resume by ticket', T, async () => {
    const sess = path.join(dir, 'sess.pem');
    await sClient(srv.port, ['-tls1_2', '-sess_out', sess]);
    assert.match(await sClient(srv.port, ['-tls1_2', '-sess_in', sess]), /Reused, TLSv1\.2/);
  });

  test('fetch (undici) over HTTPS, in a child process trusting the test CA', T, async () => {
    const code = `const r = await fetch('https://localhost:${srv.port}/', { method: 'GET' }); console.log(r.status, (await r.text()).length > 0);`;
    const out = await new Promise<string>((resolve, reject) => execFile(process.execPath, ['--input-type=module', '-e', code], {
      timeout: 10_000, env: { ...process.env, NODE_EXTRA_CA_CERTS: a.certFile },
    }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim()))));
    assert.equal(out, '200 true');
  });

  test('plain HTTP to the TLS port, failed handshakes: closed at once, not logged, others unharmed', T, async () => {
    const before = srv.output().length;
    const t0 = Date.now();
    const answer = await new Promise<string>((resolve, reject) => {
      const s = net.connect(srv.port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      let got = '';
      s.on('data', (d) => (got += d.toString('latin1')));
      s.on('close', () => resolve(got));
      s.on('error', reject);
      setTimeout(() => { s.destroy(); reject(new Error('not closed within 5 s')); }, 5000);
    });
    assert.ok(Date.now() - t0 < 2000);
    assert.doesNotMatch(answer, /200 OK/);
    for (let i = 0; i < 30; i++) await sClient(srv.port, ['-tls1_1']); // each one fails
    const r = await curlTls(srv, ['-o', '/dev/null', '-w', '%{http_code}', `https://localhost:${srv.port}/`]);
    assert.equal(r.stdout, '200');
    assert.equal(srv.output().slice(before), '', 'failed handshakes were logged');
  });
});

describe('sluice --tls-handshake-timeout', { timeout: 60_000 }, () => {
  test('a handshake that never completes is dropped after the timeout; other clients are served meanwhile', T, async () => {
    const srv = await startTlsCli(['--workers', '1', '--tls-self-signed', '--tls-handshake-timeout', '1000']);
    try {
      const stalled = Array.from({ length: 20 }, () => new Promise<number>((resolve, reject) => {
        const t0 = Date.now();
        const s = net.connect(srv.port, '127.0.0.1', () => s.write(Buffer.from([0x16, 0x03, 0x01]))); // the start of a ClientHello, then nothing
        s.on('close', () => resolve(Date.now() - t0));
        s.on('error', () => {});
        setTimeout(() => { s.destroy(); reject(new Error('a stalled handshake was still open after 8 s')); }, 8000);
      }));
      await sleep(200);
      const ok = await curl(['-sk', '-o', '/dev/null', '-w', '%{http_code}', `${srv.url}/`]);
      assert.equal(ok.stdout, '200');
      for (const ms of await Promise.all(stalled)) assert.ok(ms >= 800 && ms < 5000, `closed after ${ms} ms`);
      assert.match(srv.output(), /self-signed certificate for localhost, 127\.0\.0\.1, ::1/);
      assert.doesNotMatch(srv.output(), /error|timeout/i);
    } finally { await srv.stop(); }
  });
});

describe('certificate reload on SIGHUP', { timeout: 90_000 }, () => {
  test('a renewed certificate is served to new connections; an open one keeps working; a broken one is refused', T, async () => {
    const live = path.join(dir, 'live');
    fs.mkdirSync(live, { recursive: true });
    const certFile = path.join(live, 'cert.pem');
    const keyFile = path.join(live, 'key.pem');
    fs.copyFileSync(a.certFile, certFile);
    fs.copyFileSync(a.keyFile, keyFile);
    const renewed = makeCert(dir, 'renewed', ['localhost', '127.0.0.1']);
    const srv = await startTlsCli(['--workers', '1', '--tls-cert', certFile, '--tls-key', keyFile]);
    const crypto = await import('node:crypto');
    try {
      // An open HTTP/1.1 keep-alive connection from before the reload.
      const sock = tls.connect({ port: srv.port, host: '127.0.0.1', servername: 'localhost', ca: [a.cert, renewed.cert] });
      sock.on('error', () => {});
      await new Promise((resolve) => sock.once('secureConnect', resolve));
      let got = '';
      sock.on('data', (d) => (got += d));
      const ask = async () => {
        got = '';
        sock.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
        for (let i = 0; i < 100 && !/\r\n\r\n/.test(got); i++) await sleep(30);
        return got.split('\r\n')[0];
      };
      assert.equal(await ask(), 'HTTP/1.1 200 OK');

      fs.copyFileSync(renewed.certFile, certFile);
      fs.copyFileSync(renewed.keyFile, keyFile);
      srv.signal('SIGHUP');
      await srv.waitFor(/certificates reloaded/);
      assert.equal(await servedFingerprint(srv.port), new crypto.X509Certificate(renewed.cert).fingerprint256);
      assert.equal(await ask(), 'HTTP/1.1 200 OK', 'the connection opened before the reload');

      fs.writeFileSync(certFile, 'not a certificate\n');
      srv.signal('SIGHUP');
      await srv.waitFor(/certificates not reloaded, the old ones stay: .*cert\.pem: not a PEM certificate/);
      assert.equal(await servedFingerprint(srv.port), new crypto.X509Certificate(renewed.cert).fingerprint256);
      const r = await curlTls(srv, ['-o', '/dev/null', '-w', '%{http_code}', `https://localhost:${srv.port}/`], renewed.certFile);
      assert.equal(r.stdout, '200');
      sock.destroy();
    } finally { await srv.stop(); }
  });

  test('with --workers, SIGHUP restarts the workers, which read the new files; a broken file stops the restart', T, async () => {
    const live = path.join(dir, 'live2');
    fs.mkdirSync(live, { recursive: true });
    const certFile = path.join(live, 'cert.pem');
    const keyFile = path.join(live, 'key.pem');
    fs.copyFileSync(a.certFile, certFile);
    fs.copyFileSync(a.keyFile, keyFile);
    const renewed = makeCert(dir, 'renewed2', ['localhost', '127.0.0.1']);
    const crypto = await import('node:crypto');
    const srv = await startTlsCli(['--workers', '2', '--tls-cert', certFile, '--tls-key', keyFile], 20_000);
    try {
      assert.match(srv.output(), /\(2 workers(, reusePort)?; HTTP\/2 and HTTP\/1\.1, certificates for /);
      fs.copyFileSync(renewed.certFile, certFile);
      fs.copyFileSync(renewed.keyFile, keyFile);
      srv.signal('SIGHUP');
      await srv.waitFor(/rolling restart done/, 20_000);
      for (let i = 0; i < 4; i++) assert.equal(await servedFingerprint(srv.port), new crypto.X509Certificate(renewed.cert).fingerprint256);
      fs.writeFileSync(keyFile, 'broken\n');
      srv.signal('SIGHUP');
      await srv.waitFor(/rolling restart stopped/, 20_000);
      const r = await curlTls(srv, ['-o', '/dev/null', '-w', '%{http_code}', `https://localhost:${srv.port}/`], renewed.certFile);
      assert.equal(r.stdout, '200');
    } finally { await srv.stop(); }
  });
});

describe('sluice --workers 2 --tls-self-signed --redirect-http', { timeout: 60_000 }, () => {
  test('one certificate for every worker; plain HTTP is redirected with 308 to the same host, path and query', T, async () => {
    const port = 24000 + Math.floor(Math.random() * 900);
    const srv = await startTlsCli(['--workers', '2', '--tls-self-signed', '--redirect-http', String(port + 1), '--port', String(port)], 20_000);
    try {
      const prints = new Set<string>();
      for (let i = 0; i < 6; i++) prints.add(await servedFingerprint(srv.port));
      assert.equal(prints.size, 1);
      const r = await curl(['-s', '-i', '-X', 'POST', `http://localhost:${port + 1}/some/path?q=1&r=%20`]);
      assert.match(r.stdout, /^HTTP\/1\.1 308 Permanent Redirect\r\n/);
      assert.match(r.stdout, new RegExp(`\r\nLocation: https://localhost:${port}/some/path\\?q=1&r=%20\r\n`));
      const follow = await curl(['-sk', '-L', '-o', '/dev/null', '-w', '%{http_code} %{url_effective}', `http://127.0.0.1:${port + 1}/`]);
      assert.equal(follow.stdout, `200 https://127.0.0.1:${port}/`);
    } finally { await srv.stop(); }
  });
});

describe('HTTP/2 across a rolling restart', { timeout: 60_000 }, () => {
  test('SIGHUP with --workers 2: an HTTP/2 stream in flight finishes (GOAWAY, then close), new sessions are served', T, async () => {
    const srv = await startTlsCli(['--workers', '2', '--tls-cert', a.certFile, '--tls-key', a.keyFile, '--sleep-ms', '1500'], 20_000);
    const http2 = await import('node:http2');
    const session = http2.connect(srv.url, { ca: a.cert, servername: 'localhost' });
    session.on('error', () => {});
    try {
      const r = session.request({ ':path': '/sleep' });
      r.on('error', () => {});
      const status = new Promise<number>((resolve) => r.on('response', (h) => resolve(Number(h[':status']))));
      const body = new Promise<number>((resolve, reject) => { let n = 0; r.on('data', (d: Buffer) => (n += d.length)); r.on('end', () => resolve(n)); r.on('close', () => (r.rstCode ? reject(new Error(`reset ${r.rstCode}`)) : undefined)); });
      const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
      await sleep(300);
      srv.signal('SIGHUP');
      await goaway; // the old worker drains its session
      assert.equal(await status, 200);
      assert.ok((await body) > 0);
      await srv.waitFor(/rolling restart done/, 30_000);
      const after = await h2get(srv.url, a.cert, { ':path': '/' });
      assert.equal(after.status, 200);
    } finally { session.destroy(); await srv.stop(); }
  });
});

describe('a static folder over HTTPS, both protocols', { timeout: 60_000 }, () => {
  const text = 'static over TLS. '.repeat(500);
  const t = makeTree({ 'index.html': '<h1>home</h1>', 'text.txt': text, 'pre.css': text, 'pre.css.br': zlib.brotliCompressSync(Buffer.from(text)), 'sub/index.html': 'sub' });
  let srv: RunningTls;
  before(async () => { srv = await startTlsCli([t.root, '--workers', '1', '--tls-cert', a.certFile, '--tls-key', a.keyFile]); });
  after(async () => { await srv?.stop(); t.cleanup(); });

  for (const proto of ['h2', 'h1'] as const) {
    test(`ETag / 304, Range / 206, precompressed .br and the folder redirect over ${proto}`, T, async () => {
      const get = (p: string, headers: Record<string, string> = {}) =>
        proto === 'h2' ? h2get(srv.url, a.cert, { ':path': p, ...headers }) : h1get(srv.url, a.cert, { path: p, headers });
      const full = await get('/text.txt');
      assert.equal(full.status, 200);
      assert.equal(full.body.toString(), text);
      const etag = full.headers['etag'] as string;
      assert.match(etag, /^"/);
      assert.equal((await get('/text.txt', { 'if-none-match': etag })).status, 304);
      const part = await get('/text.txt', { range: 'bytes=5-14' });
      assert.equal(part.status, 206);
      assert.equal(part.body.toString(), text.slice(5, 15));
      assert.equal(part.headers['content-range'], `bytes 5-14/${text.length}`);
      const br = await get('/pre.css', { 'accept-encoding': 'br' });
      assert.equal(br.headers['content-encoding'], 'br');
      assert.equal(zlib.brotliDecompressSync(br.body).toString(), text);
      const dirRedirect = await get('/sub?x=1');
      assert.equal(dirRedirect.status, 301);
      assert.equal(dirRedirect.headers['location'], '/sub/?x=1');
    });
  }
});

describe('TLS and HTTP/2 flags', { timeout: 60_000 }, () => {
  test('--h2-max-streams reaches SETTINGS; --tls-min-version TLSv1.3 refuses TLS 1.2', T, async () => {
    const srv = await startTlsCli(['--workers', '1', '--tls-self-signed', '--h2-max-streams', '7', '--tls-min-version', 'TLSv1.3']);
    const http2 = await import('node:http2');
    const s = http2.connect(srv.url, { rejectUnauthorized: false });
    s.on('error', () => {});
    try {
      const settings = await new Promise<import('node:http2').Settings>((resolve) => s.once('remoteSettings', resolve));
      assert.equal(settings.maxConcurrentStreams, 7);
      assert.match(await sClient(srv.port, ['-tls1_3']), /New, TLSv1\.3/);
      assert.doesNotMatch(await sClient(srv.port, ['-tls1_2']), /New, TLSv1\.2/);
    } finally { s.destroy(); await srv.stop(); }
  });

  test('--no-http2: a client offering h2 gets HTTP/1.1', T, async () => {
    const srv = await startTlsCli(['--workers', '1', '--tls-self-signed', '--no-http2']);
    try {
      assert.match(srv.output(), /\(HTTP\/1\.1, self-signed/);
      assert.match(await sClient(srv.port, ['-alpn', 'h2,http/1.1']), /ALPN protocol: http\/1\.1/);
      const r = await curl(['-sk', '--http2', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `${srv.url}/`]);
      assert.equal(r.stdout, '1.1 200');
    } finally { await srv.stop(); }
  });
});

describe('bad TLS flags and files at start-up', { timeout: 60_000 }, () => {
  const cases: [string, string[], RegExp][] = [
    ['a key given as the certificate', ['--tls-cert', a.keyFile, '--tls-key', a.keyFile], /not a PEM certificate/],
    ['a key of another certificate', ['--tls-cert', a.certFile, '--tls-key', b.keyFile], /the key does not belong to this certificate/],
    ['a missing file', ['--tls-cert', path.join(dir, 'nope.pem'), '--tls-key', a.keyFile], /cannot read the certificate file .*nope\.pem: ENOENT/],
    ['a certificate without its key', ['--tls-cert', a.certFile], /every --tls-cert needs its --tls-key/],
    ['--redirect-http without TLS', ['--redirect-http', '8080'], /--redirect-http needs TLS/],
    ['a bad minimum version', ['--tls-self-signed', '--tls-min-version', 'TLSv1'], /--tls-min-version must be TLSv1\.2 or TLSv1\.3/],
    ['a missing file with --workers 2', ['--workers', '2', '--tls-cert', path.join(dir, 'nope.pem'), '--tls-key', a.keyFile], /cannot read the certificate file/],
  ];
  for (const [name, args, message] of cases) {
    test(`${name}: a message and exit 2`, T, async () => {
      const r = await runCli([...args, '--port', '0']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'a stack trace');
    });
  }
});
