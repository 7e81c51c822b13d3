// The real CLI over real sockets: Node's fetch, curl and raw sockets against `sluice`.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startCli, startScript, cliPath, runCli, repoRoot, type Running } from './helpers/cli.js';
import { RawClient, countResponses, curl, rawRequest } from './helpers/net.js';
import { parseCli } from '../src/cli/args.js';

const hello = readFileSync(path.join(repoRoot, 'site', 'hello.html'), 'utf8');
const GET = (p: string, extra = '') => `GET ${p} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

let site: Running;
before(async () => {
  site = await startCli(['--workers', '1', '--sleep-ms', '500']);
});
after(async () => {
  await site?.stop();
});

test('fetch: / is hello.html with Content-Type and Content-Length; unknown paths are 404.html', async () => {
  const r = await fetch(site.url + '/', { signal: AbortSignal.timeout(5000) });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
  const body = await r.text();
  assert.equal(body, hello);
  assert.equal(Number(r.headers.get('content-length')), Buffer.byteLength(hello));
  assert.ok(r.headers.get('date'));
  const r404 = await fetch(site.url + '/nothing-here', { signal: AbortSignal.timeout(5000) });
  assert.equal(r404.status, 404);
  assert.equal(r404.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(await r404.text(), /<h1>Oops!<\/h1>/);
});

test('curl: keep-alive reuses one connection for several requests', async () => {
  const { code, stdout, stderr } = await curl(['-sv', `${site.url}/`, `${site.url}/nope`, `${site.url}/`, '-o', '/dev/null', '-o', '/dev/null', '-o', '/dev/null', '-w', '%{http_code} %{num_connects}\n']);
  assert.equal(code, 0, stderr);
  assert.deepEqual(stdout.trim().split('\n'), ['200 1', '404 0', '200 0'], 'one connect, then reuse');
  assert.match(stderr, /Re-using existing connection|Reusing existing/i);
});

test('curl: HEAD has the length and no body', async () => {
  const { code, stdout } = await curl(['-sI', `${site.url}/`]);
  assert.equal(code, 0);
  assert.match(stdout, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(stdout, new RegExp(`Content-Length: ${Buffer.byteLength(hello)}\r\n`, 'i'));
});

test('pipelined requests sent in one write come back in order', async () => {
  const c = new RawClient(site.port);
  await c.connected;
  c.send(GET('/') + GET('/missing') + GET('/sleep') + GET('/'));
  const out = await c.until((o) => countResponses(o) === 4);
  const statuses = [...out.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
  assert.deepEqual(statuses, [200, 404, 200, 200]);
  c.close();
});

test('the seed\'s headline: 1000 concurrent /sleep complete together, and / is answered meanwhile', async () => {
  const sleepMs = 500;
  const n = 1000;
  const latencies: number[] = [];
  const clients: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    clients.push(new Promise((resolve, reject) => {
      let sentAt = 0;
      let out = '';
      const s = net.connect(site.port, '127.0.0.1', () => {
        sentAt = Date.now();
        s.write(GET('/sleep', 'Connection: close\r\n'));
      });
      s.setTimeout(10_000, () => s.destroy(new Error('timeout')));
      s.on('data', (d) => (out += d));
      s.on('error', reject);
      s.on('close', () => {
        if (!out.startsWith('HTTP/1.1 200 OK')) return reject(new Error(`request ${i}: ${out.slice(0, 80)}`));
        latencies.push(Date.now() - sentAt);
        resolve();
      });
    }));
  }
  // While they sleep, / is answered before any of them is done.
  await new Promise((r) => setTimeout(r, 100));
  const quick = await rawRequest(site.port, GET('/', 'Connection: close\r\n'));
  assert.match(quick, /^HTTP\/1\.1 200 OK/);
  assert.equal(latencies.length, 0, 'GET / came back while every /sleep was still in flight');
  await Promise.all(clients);
  assert.equal(latencies.length, n);
  latencies.sort((a, b) => a - b);
  // Served one after another the last would wait n × sleepMs = 500 s; served concurrently each
  // takes one sleep plus overhead. (Opening 1000 sockets takes this test process a while, so
  // each request is timed from its own write.)
  const worst = latencies[n - 1];
  assert.ok(latencies[0] >= sleepMs - 5, `a /sleep answered after ${latencies[0]} ms: it did not sleep`);
  assert.ok(worst < 2 * sleepMs, `slowest of ${n} took ${worst} ms (median ${latencies[n >> 1]}), expected well under ${2 * sleepMs} ms`);
});

test('a malformed request gets 400 and a close; another connection is not disturbed', async () => {
  const other = new RawClient(site.port);
  await other.connected;
  other.send(GET('/sleep'));
  const bad = await rawRequest(site.port, 'GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n');
  assert.match(bad, /^HTTP\/1\.1 400 Bad Request\r\n/);
  assert.match(bad, /Connection: close\r\n/);
  assert.match(bad, /Content-Length and Transfer-Encoding/);
  const out = await other.until((o) => countResponses(o) === 1);
  assert.match(out, /^HTTP\/1\.1 200 OK/);
  other.close();
});

test('limits over the wire: 431, 414, 413, 505', async () => {
  const big = await rawRequest(site.port, `GET / HTTP/1.1\r\nHost: t\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  assert.match(big, /^HTTP\/1\.1 431 /);
  const long = await rawRequest(site.port, `GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: t\r\n\r\n`);
  assert.match(long, /^HTTP\/1\.1 414 /);
  const body = await rawRequest(site.port, `POST / HTTP/1.1\r\nHost: t\r\nContent-Length: ${2 * 1024 * 1024}\r\n\r\n`);
  assert.match(body, /^HTTP\/1\.1 413 /);
  const v2 = await rawRequest(site.port, 'GET / HTTP/2.0\r\nHost: t\r\n\r\n');
  assert.match(v2, /^HTTP\/1\.1 505 /);
});

test('--concurrency 1 makes a second connection wait; a full queue gets 503 with Retry-After', async () => {
  const s = await startCli(['--workers', '1', '--sleep-ms', '400', '--concurrency', '1', '--queue', '1']);
  try {
    const order: string[] = [];
    const a = new RawClient(s.port);
    await a.connected;
    a.send(GET('/sleep', 'Connection: close\r\n'));
    await new Promise((r) => setTimeout(r, 50));
    const b = new RawClient(s.port);
    await b.connected;
    b.send(GET('/', 'Connection: close\r\n'));
    await new Promise((r) => setTimeout(r, 50));
    const c = await rawRequest(s.port, GET('/', 'Connection: close\r\n'));
    assert.match(c, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    assert.match(c, /Retry-After: \d+\r\n/);
    await Promise.all([
      a.until((o) => countResponses(o) === 1).then(() => order.push('sleep')),
      b.until((o) => countResponses(o) === 1).then(() => order.push('hello')),
    ]);
    assert.deepEqual(order, ['sleep', 'hello'], 'the queued connection was served only after the first finished');
    a.close();
    b.close();
  } finally {
    await s.stop();
  }
});

test('SIGTERM: a request in flight still gets its whole response, then exit 0', async () => {
  const s = await startCli(['--workers', '1', '--sleep-ms', '400']);
  const c = new RawClient(s.port);
  await c.connected;
  c.send(GET('/sleep'));
  await new Promise((r) => setTimeout(r, 100));
  s.proc.kill('SIGTERM');
  const out = await c.until((o, closed) => closed && o.length > 0, 5000);
  assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(out, /Connection: close\r\n/);
  assert.equal(countResponses(out), 1);
  assert.ok(out.endsWith('</html>\n'));
  assert.equal(await s.exited, 0);
  // and it no longer accepts
  await assert.rejects(new Promise((resolve, reject) => { const k = net.connect(s.port, '127.0.0.1', () => { k.destroy(); resolve(null); }); k.on('error', reject); }));
});

test('CLI: --help, --version, and bad flags exit 2 with a clear message', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: sluice/);
  assert.match(help.stdout, /--concurrency/);
  assert.match(help.stdout, /--send-timeout MS/);
  const parsed = parseCli(['--send-timeout', '1500']);
  assert.equal(typeof parsed === 'object' && parsed.serve.sendTimeoutMs, 1500, '--send-timeout reaches the server options');
  const version = await runCli(['--version']);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^sluice \d+\.\d+\.\d+/);
  for (const [args, msg] of [
    [['--port', 'abc'], /--port must be a whole number/],
    [['--port', '70000'], /--port must be between/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--concurrency', '0'], /--concurrency must be between 1/],
    [['--sleep-ms', '-5'], /--sleep-ms/],
    [['/definitely/not/here'], /folder not found/],
    [['--workers', 'x'], /--workers must be a whole number/],
    [['--send-timeout', '0'], /--send-timeout must be between 1/],
    [['--send-timeout', 'soon'], /--send-timeout must be a whole number/],
  ] as const) {
    const r = await runCli([...args]);
    assert.equal(r.code, 2, `${args.join(' ')} → exit 2`);
    assert.match(r.stderr, msg);
  }
});

test('PORT and HOST come from the environment', async () => {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const t = await startScript(cliPath, ['--workers', '1'], { env: { PORT: String(port), HOST: '127.0.0.1' } });
  try {
    assert.equal(t.port, port);
    const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) });
    assert.equal(r.status, 200);
  } finally {
    await t.stop();
  }
});
