// The access and error logs over real sockets: exact lines for a known sequence of requests in
// both formats (odd bytes escaped), whole lines from two workers under load, nothing lost when
// the file is renamed and SIGUSR1 reopens it, handler errors with request line and stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { cliPath, runCli, startCli } from './helpers/cli.js';
import { spawn } from 'node:child_process';
import { serve } from '../src/index.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'sluice-log-'));
const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'latin1').split('\n').filter((l) => l !== '') : []);

async function waitLines(file: string, n: number, deadlineMs = 10_000): Promise<string[]> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const l = lines(file);
    if (l.length >= n) return l;
    if (Date.now() > end) throw new Error(`${file}: ${l.length} lines, expected ${n}:\n${l.join('\n')}`);
    await delay(25);
  }
}

/** Sends raw bytes on a fresh connection and resolves with everything the server sent back. */
function raw(port: number, bytes: Buffer | string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, '127.0.0.1', () => s.end(bytes));
    s.setTimeout(5_000, () => { s.destroy(); reject(new Error('raw request timed out')); });
    s.on('data', (d) => chunks.push(d));
    s.on('error', reject);
    s.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

const bodyLength = (res: Buffer) => res.length - res.indexOf('\r\n\r\n') - 4;

// The sequence both format tests send: a plain GET, a 404 with a referer, a request whose target
// carries quotes (a backslash or a non-ASCII byte in a target is a 400 before anything is logged),
// its user agent quotes, a backslash, a tab and a non-ASCII byte, and a malformed request.
const ODD_REQUEST = Buffer.concat([
  Buffer.from('GET /q?a="b"c HTTP/1.0\r\nHost: x\r\nUser-Agent: ev"il\\\tagent '),
  Buffer.from([0xe9]),
  Buffer.from('\r\n\r\n'),
]);

async function sendSequence(port: number): Promise<number[]> {
  const sizes: number[] = [];
  sizes.push(bodyLength(await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: t/1\r\nConnection: close\r\n\r\n')));
  sizes.push(bodyLength(await raw(port, 'GET /nope HTTP/1.1\r\nHost: x\r\nReferer: http://r.example/p\r\nConnection: close\r\n\r\n')));
  sizes.push(bodyLength(await raw(port, ODD_REQUEST)));
  sizes.push(bodyLength(await raw(port, 'GET  / HTTP/1.1\r\n\r\n')));
  return sizes;
}

const TIME_LOCAL = String.raw`\d{2}/(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}`;

test('combined format: nginx\'s default line for each exchange, odd bytes escaped as \\xHH', { timeout: 30_000 }, async () => {
  const dir = tmp();
  const file = path.join(dir, 'access.log');
  const srv = await startCli(['--workers', '1', '--access-log', file]);
  try {
    const sizes = await sendSequence(srv.port);
    const got = await waitLines(file, 4);
    assert.equal(got.length, 4);
    const expected = [
      `"GET / HTTP/1.1" 200 ${sizes[0]} "-" "t/1"`,
      `"GET /nope HTTP/1.1" 404 ${sizes[1]} "http://r.example/p" "-"`,
      String.raw`"GET /q?a=\x22b\x22c HTTP/1.0" 404 ${sizes[2]} "-" "ev\x22il\x5C\x09agent \xE9"`,
      `"-" 400 ${sizes[3]} "-" "-"`,
    ];
    got.forEach((line, i) => {
      const m = new RegExp(`^127\\.0\\.0\\.1 - - \\[(${TIME_LOCAL})\\] (.*)$`).exec(line);
      assert.ok(m, `line ${i + 1} has the combined prefix: ${line}`);
      assert.equal(m[2], expected[i]);
    });
  } finally {
    await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('json format: one object a line with time, client, method, target, protocol, status, bytes, duration, agent, worker', { timeout: 30_000 }, async () => {
  const dir = tmp();
  const file = path.join(dir, 'access.json');
  const srv = await startCli(['--workers', '1', '--access-log', file, '--log-format', 'json']);
  try {
    const before = Date.now();
    const sizes = await sendSequence(srv.port);
    const got = (await waitLines(file, 4)).map((l) => {
      assert.match(l, /^[\x20-\x7e]+$/, 'printable ASCII only');
      return JSON.parse(l) as Record<string, unknown>;
    });
    const fields = ['time', 'remote_addr', 'method', 'target', 'protocol', 'status', 'bytes', 'duration_ms', 'referer', 'user_agent', 'worker', 'aborted'];
    for (const o of got) {
      assert.deepEqual(Object.keys(o), fields);
      assert.ok(Date.parse(o.time as string) >= before - 1000 && Date.parse(o.time as string) <= Date.now(), 'time is now');
      assert.equal(typeof o.duration_ms, 'number');
      assert.ok((o.duration_ms as number) >= 0 && (o.duration_ms as number) < 5000);
      assert.equal(o.remote_addr, '127.0.0.1');
      assert.equal(o.worker, 0, 'worker 0: a single process');
      assert.equal(o.aborted, false);
    }
    const pick = (o: Record<string, unknown>) => [o.method, o.target, o.protocol, o.status, o.bytes, o.referer, o.user_agent];
    assert.deepEqual(pick(got[0]!), ['GET', '/', 'HTTP/1.1', 200, sizes[0], null, 't/1']);
    assert.deepEqual(pick(got[1]!), ['GET', '/nope', 'HTTP/1.1', 404, sizes[1], 'http://r.example/p', null]);
    assert.deepEqual(pick(got[2]!), ['GET', '/q?a="b"c', 'HTTP/1.0', 404, sizes[2], null, 'ev"il\\\tagent \u00e9']);
    assert.deepEqual(pick(got[3]!), [null, null, null, 400, sizes[3], null, null]);
    assert.ok(got.some((o) => String(o.duration_ms).includes('.')), 'durations have sub-millisecond precision');
  } finally {
    await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('two workers under load (wrk, 2 s) append only whole lines to one file', { timeout: 60_000 }, async () => {
  const dir = tmp();
  const file = path.join(dir, 'access.json');
  const srv = await startCli(['--workers', '2', '--access-log', file, '--log-format', 'json']);
  let requests = 0;
  try {
    // Long targets make each line ~1 KiB, so batches reach the 4 KiB write size often.
    const pad = 'x'.repeat(900);
    const { stdout } = await promisify(execFile)('wrk', ['-t2', '-c40', '-d2s', '--timeout', '5s', `${srv.url}/load?pad=${pad}`], { timeout: 20_000 });
    requests = Number(/(\d+) requests in/.exec(stdout)?.[1]);
    assert.ok(requests > 500, `wrk sent ${requests} requests`);
  } finally {
    assert.equal(await srv.stop(), 0, 'the server drains and exits 0 (its logs flushed)');
  }
  const text = readFileSync(file, 'latin1');
  assert.ok(text.endsWith('\n'), 'the file ends with a whole line');
  const all = text.split('\n').slice(0, -1);
  const workers = new Set<number>();
  for (const l of all) {
    let o;
    try { o = JSON.parse(l) as { target: string; worker: number; status: number }; } catch { assert.fail(`a torn line: ${l.slice(0, 200)}`); }
    assert.equal(o.target, `/load?pad=${'x'.repeat(900)}`);
    workers.add(o.worker);
  }
  // wrk counts the responses it read; requests in flight when it stopped are logged but not counted.
  assert.ok(all.length >= requests && all.length <= requests + 40, `${all.length} lines for ${requests} requests`);
  assert.deepEqual([...workers].sort(), [1, 2], 'both workers wrote');
  rmSync(dir, { recursive: true, force: true });
});

test('SIGUSR1 after mv: the primary has the workers reopen the file, and no line is lost', { timeout: 60_000 }, async () => {
  const dir = tmp();
  const file = path.join(dir, 'access.log');
  const srv = await startCli(['--workers', '2', '--access-log', file]);
  const sent: string[] = [];
  let stop = false;
  try {
    // Three clients send numbered requests without pause, across the rename and the reopen.
    const client = async (k: number) => {
      for (let i = 0; !stop; i++) {
        const id = `/r/${k}/${i}`;
        const res = await fetch(`${srv.url}${id}`, { signal: AbortSignal.timeout(5_000) });
        await res.arrayBuffer();
        sent.push(id);
      }
    };
    const clients = [client(1), client(2), client(3)];
    await delay(700);
    renameSync(file, `${file}.1`);
    await delay(200); // lines keep going to the renamed file meanwhile
    srv.proc.kill('SIGUSR1');
    const end = Date.now() + 10_000;
    while (lines(file).length < 20 && Date.now() < end) await delay(50);
    stop = true;
    await Promise.all(clients);
  } finally {
    stop = true;
    assert.equal(await srv.stop(), 0);
  }
  const old = lines(`${file}.1`);
  const fresh = lines(file);
  assert.ok(old.length > 0 && fresh.length >= 20, `lines before (${old.length}) and after (${fresh.length}) the reopen`);
  const logged = [...old, ...fresh].map((l) => /"GET (\S+) HTTP\/1\.1" 404 /.exec(l)?.[1]);
  assert.equal(logged.filter((x) => x === undefined).length, 0, 'every line is a whole line');
  assert.deepEqual([...logged].sort(), [...sent].sort(), 'each request is logged exactly once, in one file or the other');
  rmSync(dir, { recursive: true, force: true });
});

test('the library: accessLog/errorLog options; a handler error goes to the error log with request line and stack', { timeout: 30_000 }, async () => {
  const dir = tmp();
  const access = path.join(dir, 'a.log');
  const errors = path.join(dir, 'e.log');
  const server = await serve((req) => {
    if (req.path === '/boom') throw new Error('kaput\nforged line');
    return { body: 'ok' };
  }, { port: 0, accessLog: { destination: access, format: 'combined' }, errorLog: { destination: errors } });
  try {
    assert.equal((await fetch(`${server.url}ok`)).status, 200);
    assert.equal((await fetch(`${server.url}boom?x=1`, { headers: { 'User-Agent': 'ua' } })).status, 500);
    const a = await waitLines(access, 2);
    assert.match(a[1]!, /"GET \/boom\?x=1 HTTP\/1\.1" 500 22 "-" "ua"$/);
    const e = (await waitLines(errors, 3)).join('\n');
    assert.match(e, /^\S+Z \[error\] worker 0 pid \d+: handler error on "GET \/boom\?x=1 HTTP\/1\.1" from 127\.0\.0\.1: Error: kaput\n    forged line\n    at /);
    assert.ok(e.includes('access-log.test.js'), 'the stack names the handler\'s file');
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI: no per-request lines on a non-terminal stdout by default; a bad --log-format is a usage error', { timeout: 30_000 }, async () => {
  const srv = await startCli(['--workers', '1']);
  try {
    for (let i = 0; i < 3; i++) await (await fetch(`${srv.url}/`)).arrayBuffer();
    await delay(200);
    assert.doesNotMatch(srv.output(), /GET \//);
  } finally {
    await srv.stop();
  }
  const bad = await runCli(['--log-format', 'xml']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--log-format must be combined or json, got "xml"/);
  const dir = tmp();
  const blocked = path.join(dir, 'a-file');
  writeFileSync(blocked, '');
  const unwritable = await runCli(['--access-log', path.join(blocked, 'access.log')]);
  assert.equal(unwritable.code, 2);
  assert.match(unwritable.stderr, /^sluice: cannot open .*a-file\/access\.log \(--access-log\): (ENOTDIR|EEXIST)\n/);
  rmSync(dir, { recursive: true, force: true });
  const dirAsFile = await runCli(['--access-log', os.tmpdir()]);
  assert.equal(dirAsFile.code, 2);
  assert.match(dirAsFile.stderr, /--access-log is a folder/);
});

test('the CLI\'s default: a short line on a terminal (json if asked), none with --quiet or off a terminal', async () => {
  const { logOptions } = await import('../src/ops/setup.js');
  const { dev } = await import('../src/ops/log/formats.js');
  const logs = { accessLog: undefined, format: undefined, errorLog: 'stderr', quiet: false } as const;
  assert.deepEqual(logOptions(logs, true).accessLog, { destination: '-', format: 'dev' });
  assert.deepEqual(logOptions({ ...logs, format: 'json' }, true).accessLog, { destination: '-', format: 'json' });
  assert.equal(logOptions({ ...logs, quiet: true }, true).accessLog, undefined);
  assert.equal(logOptions(logs, false).accessLog, undefined);
  assert.deepEqual(logOptions({ ...logs, accessLog: 'f.log', quiet: true }, false).accessLog, { destination: 'f.log', format: 'combined' });
  const req = { method: 'GET', target: '/a\x1bb', minorVersion: 1, headers: { get: () => undefined } } as never;
  const line = dev()({ req, record: { status: 200, bodyBytes: 1536, aborted: false }, durationMs: 0.42, now: Date.now(), worker: 0 });
  assert.match(line, /^\d{2}:\d{2}:\d{2} GET \/a\\x1Bb 200 0\.4 ms 1\.5 kB\n$/);
});

test('on a real terminal (script(1) gives it a pty) the CLI prints a short line per request by default', { timeout: 30_000 }, async () => {
  const proc = spawn('script', ['-qfec', `${process.execPath} ${cliPath} --workers 1 --port 0`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const killer = setTimeout(() => proc.kill('SIGKILL'), 25_000);
  try {
    const end = Date.now() + 15_000;
    let url: string | undefined;
    while (!(url = /http:\/\/127\.0\.0\.1:\d+/.exec(out)?.[0])) {
      if (Date.now() > end) throw new Error(`no start-up line:\n${out}`);
      await delay(25);
    }
    await (await fetch(`${url}/missing?x=1`)).arrayBuffer();
    while (!/GET \/missing\?x=1 404/.test(out)) {
      if (Date.now() > end) throw new Error(`no request line:\n${out}`);
      await delay(25);
    }
    assert.match(out, /\n\d{2}:\d{2}:\d{2} GET \/missing\?x=1 404 \d+\.\d ms \d+ B\r?\n/);
  } finally {
    proc.stdin.end(); // end of input: script(1) ends the session, the server gets SIGHUP
    proc.kill('SIGTERM');
    await new Promise((resolve) => { if (proc.exitCode !== null) resolve(null); else proc.once('exit', resolve); });
    clearTimeout(killer);
  }
});
