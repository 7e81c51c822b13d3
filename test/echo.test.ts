// The example app examples/echo.ts, run as a child process (`node dist/examples/echo.js --port 0`)
// and poked with curl (a real third-party client) and Node's fetch. Every test has a deadline;
// the server is stopped at the end and the temp files removed.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { distDir, startScript, type Running } from './helpers/cli.js';
import { curl } from './helpers/net.js';

const T = { timeout: 8_000 };

interface Head { status: number; lines: string[] }

/** The response heads `curl -D -` wrote (interim 1xx heads included), in order. */
function parseHeads(text: string): Head[] {
  return text.split('\r\n\r\n').filter((b) => b.startsWith('HTTP/')).map((b) => {
    const lines = b.split('\r\n');
    return { status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(lines[0])?.[1]), lines: lines.slice(1) };
  });
}

function fieldValues(head: Head, name: string): string[] {
  const out: string[] = [];
  for (const l of head.lines) {
    const c = l.indexOf(':');
    if (c > 0 && l.slice(0, c).toLowerCase() === name) out.push(l.slice(c + 1).trim());
  }
  return out;
}

/** The final (non-1xx) response: checks it has exactly one Content-Length, equal to the body's length. */
function finalHead(heads: Head[], bodyLength: number): Head {
  const finals = heads.filter((h) => h.status >= 200);
  assert.equal(finals.length, 1, `one final response, got ${JSON.stringify(heads)}`);
  const cl = fieldValues(finals[0], 'content-length');
  assert.deepEqual(cl, [String(bodyLength)], `Content-Length in ${JSON.stringify(finals[0].lines)}`);
  assert.equal(fieldValues(finals[0], 'transfer-encoding').length, 0);
  return finals[0];
}

/** The request header lines curl says it sent (`curl -v`: "> Name: value"), request line excluded. */
function sentFields(stderr: string): string[] {
  const out: string[] = [];
  for (const l of stderr.split(/\r?\n/)) {
    if (l.startsWith('> ') && l.includes(':') && !/^> [A-Z]+ \S+ HTTP\/1\.1/.test(l)) out.push(l.slice(2));
  }
  return out;
}

describe('examples/echo.ts over real sockets', { timeout: 30_000 }, () => {
  let srv: Running;
  let base: string;
  let dir: string;
  let n = 0;
  const tmp = (name: string) => path.join(dir, `${n++}-${name}`);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-echo-'));
    srv = await startScript(path.join(distDir, 'examples', 'echo.js'), ['--host', '127.0.0.1', '--port', '0']);
    assert.ok(srv.port > 0, `--port 0 gives a real port: ${srv.output()}`);
    base = `http://127.0.0.1:${srv.port}`;
  });
  after(async () => {
    const code = await srv?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, `echo exits cleanly on SIGTERM: ${srv?.output()}`);
  });

  /** curl with heads on stdout, the body in a file and -v on stderr. */
  async function run(args: string[]) {
    const bodyFile = tmp('body');
    const r = await curl(['-sv', '-D', '-', '-o', bodyFile, ...args]);
    assert.equal(r.code, 0, `curl failed: ${r.stderr}`);
    const body = fs.readFileSync(bodyFile);
    return { heads: parseHeads(r.stdout), body, sent: sentFields(r.stderr), stderr: r.stderr };
  }

  test('the start-up line names the port it really listens on', T, async () => {
    assert.match(srv.output(), new RegExp(`^echo listening on http://127\\.0\\.0\\.1:${srv.port}/`, 'm'));
    const res = await fetch(`${base}/`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'OK');
  });

  for (const method of ['GET', 'POST', 'DELETE']) {
    test(`curl ${method} /echo: the header fields, one line per field line, as sent`, T, async () => {
      const extra = method === 'POST' ? ['-d', 'hello'] : method === 'DELETE' ? ['-X', 'DELETE'] : [];
      const r = await run(['-H', 'X-Custom: a', '-H', 'x-custom: b', ...extra, `${base}/echo`]);
      const head = finalHead(r.heads, r.body.length);
      assert.equal(head.status, 200);
      assert.deepEqual(fieldValues(head, 'content-type'), ['text/plain; charset=utf-8']);
      const text = r.body.toString('utf8');
      const expected = [`Host: 127.0.0.1:${srv.port}`, 'User-Agent: curl/', 'Accept: */*', 'X-Custom: a', 'x-custom: b'];
      if (method === 'POST') expected.push('Content-Length: 5', 'Content-Type: application/x-www-form-urlencoded');
      const lines = text.split('\n');
      assert.equal(lines.pop(), '', 'every line ends with \\n');
      assert.equal(lines.length, expected.length, text);
      expected.forEach((e, i) => assert.ok(lines[i].startsWith(e), `line ${i}: ${JSON.stringify(lines[i])} vs ${e}`));
      // exactly what curl says it sent, in order
      assert.deepEqual(lines, r.sent);
    });
  }

  test('fetch GET, POST and DELETE /echo', T, async () => {
    for (const method of ['GET', 'POST', 'DELETE']) {
      const res = await fetch(`${base}/echo`, { method, headers: { 'X-Custom': 'a', 'X-Other': 'b' }, body: method === 'POST' ? 'xyz' : undefined });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
      const text = await res.text();
      assert.equal(res.headers.get('content-length'), String(Buffer.byteLength(text)));
      const lines = text.split('\n');
      assert.equal(lines.pop(), '');
      const lower = lines.map((l) => l.toLowerCase());
      assert.ok(lower.includes(`host: 127.0.0.1:${srv.port}`), text);
      assert.ok(lower.includes('x-custom: a') && lower.includes('x-other: b'), text);
      assert.ok(lower.some((l) => l.startsWith('user-agent: ')), text);
      assert.equal(lower.includes('content-length: 3'), method === 'POST', text);
      for (const l of lines) assert.match(l, /^[!#$%&'*+.^_`|~0-9A-Za-z-]+: .*$/);
    }
  });

  test('curl -b "a=1; b=2" /cookie: one name=value line per pair', T, async () => {
    const r = await run(['-b', 'a=1; b=2', `${base}/cookie`]);
    const head = finalHead(r.heads, r.body.length);
    assert.equal(head.status, 200);
    assert.equal(r.body.toString(), 'a=1\nb=2\n');
    assert.ok(r.sent.includes('Cookie: a=1; b=2'), r.sent.join('\n'));
    // two Cookie field lines are both read; no Cookie at all is an empty body
    const two = await run(['-H', 'Cookie: x=9', '-H', 'Cookie:  y=8 ;z=7', `${base}/cookie`]);
    finalHead(two.heads, two.body.length);
    assert.equal(two.body.toString(), 'x=9\ny=8\nz=7\n');
    const none = await run([`${base}/cookie`]);
    assert.equal(finalHead(none.heads, 0).status, 200);
    assert.equal(none.body.length, 0);
  });

  test('a ~1 MB random binary body is echoed byte for byte (curl sends Expect: 100-continue)', T, async () => {
    const data = crypto.randomBytes(1024 * 1024 + 37);
    const file = tmp('upload.bin');
    fs.writeFileSync(file, data);
    const r = await run(['-H', 'Content-Type: application/octet-stream', '--data-binary', `@${file}`, `${base}/upload`]);
    assert.ok(r.sent.includes('Expect: 100-continue'), `curl asked for 100 itself: ${r.sent.join('\n')}`);
    assert.deepEqual(r.heads.map((h) => h.status), [100, 200], 'a 100 Continue, then the answer');
    const head = finalHead(r.heads, data.length);
    assert.deepEqual(fieldValues(head, 'content-type'), ['application/octet-stream']);
    assert.ok(r.body.equals(data), 'body echoed byte for byte');
  });

  test('PUT with fetch: bytes back, and the default Content-Type', T, async () => {
    const data = crypto.randomBytes(200_000);
    const res = await fetch(`${base}/some/where?q=1`, { method: 'PUT', body: data });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(data.length));
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(data));
    const small = await fetch(`${base}/x`, { method: 'POST', headers: { 'Content-Type': 'text/x-mine' }, body: 'héllo\r\n\0' });
    assert.equal(small.headers.get('content-type'), 'text/x-mine');
    assert.equal(await small.text(), 'héllo\r\n\0');
  });

  test('a chunked upload (curl -H "Transfer-Encoding: chunked" --data-binary @file) is echoed whole, with Content-Length', T, async () => {
    const data = crypto.randomBytes(300_000 + 5);
    const file = tmp('chunked.bin');
    fs.writeFileSync(file, data);
    const r = await run(['-H', 'Transfer-Encoding: chunked', '--data-binary', `@${file}`, `${base}/chunky`]);
    assert.ok(r.sent.includes('Transfer-Encoding: chunked'), r.sent.join('\n'));
    assert.ok(!r.sent.some((l) => /^content-length:/i.test(l)), r.sent.join('\n'));
    const head = finalHead(r.heads, data.length);
    assert.equal(head.status, 200);
    assert.ok(r.body.equals(data), 'body echoed byte for byte');
  });

  test('Expect: 100-continue asked explicitly: 100 then the echo; /echo answers without the body and closes', T, async () => {
    const data = crypto.randomBytes(5000);
    const file = tmp('expect.bin');
    fs.writeFileSync(file, data);
    const r = await run(['-H', 'Expect: 100-continue', '--data-binary', `@${file}`, `${base}/expect`]);
    // (curl would send the body anyway after waiting 1 s; this line is the server's 100)
    assert.ok(r.stderr.includes('< HTTP/1.1 100 Continue'), r.stderr);
    assert.deepEqual(r.heads.map((h) => h.status), [100, 200]);
    finalHead(r.heads, data.length);
    assert.ok(r.body.equals(data));

    // /echo does not read the body: no 100, the answer, and the connection closes (the body never came)
    const w = await curl(['-s', '-H', 'Expect: 100-continue', '--data-binary', `@${file}`, '-w', '|%{http_code} %{num_connects}\n', `${base}/echo`, `${base}/after`]);
    assert.equal(w.code, 0, w.stderr);
    const mark = w.stdout.indexOf('|200 1\n');
    assert.ok(mark > 0, w.stdout.slice(0, 500));
    const first = w.stdout.slice(0, mark);
    const second = w.stdout.slice(mark + '|200 1\n'.length);
    assert.ok(first.startsWith(`Host: 127.0.0.1:${srv.port}\n`), first);
    assert.match(first, /\nExpect: 100-continue\nContent-Length: 5000\n/);
    assert.ok(Buffer.from(second.slice(0, data.length), 'latin1').equals(data), 'the next request, on a new connection, is echoed');
    assert.equal(second.slice(data.length), '|200 1\n');
  });

  test('anything else: 200 "OK" with Content-Length', T, async () => {
    for (const args of [[`${base}/`], [`${base}/nothing/here?x=1`], ['-X', 'DELETE', `${base}/thing`], ['-X', 'POST', `${base}/empty`], ['-d', '', `${base}/empty-body`], ['-X', 'OPTIONS', `${base}/opt`]]) {
      const r = await run(args);
      const head = finalHead(r.heads, 2);
      assert.equal(head.status, 200, args.join(' '));
      assert.deepEqual(fieldValues(head, 'content-type'), ['text/plain; charset=utf-8']);
      assert.equal(r.body.toString(), 'OK');
    }
    const h = await curl(['-sI', `${base}/headish`]);
    const [head] = parseHeads(h.stdout);
    assert.equal(head.status, 200);
    assert.deepEqual(fieldValues(head, 'content-length'), ['2'], 'HEAD states the length GET would have');
  });

  test('keep-alive: several requests in one curl invocation share one connection', T, async () => {
    const fmt = '|%{http_code} %{num_connects}\n';
    const r = await curl(['-s', '-w', fmt, `${base}/echo`, `${base}/cookie`, `${base}/a`, `${base}/b`]);
    assert.equal(r.code, 0, r.stderr);
    const counts = [...r.stdout.matchAll(/\|(\d{3}) (\d+)\n/g)].map((m) => [m[1], m[2]]);
    assert.deepEqual(counts, [['200', '1'], ['200', '0'], ['200', '0'], ['200', '0']], r.stdout);
    assert.ok(r.stdout.endsWith('OK|200 0\nOK|200 0\n'), r.stdout);

    // with a body the app does not read (/echo): it is discarded, and the connection is still reused
    const b = await curl(['-s', '-d', 'hello', '-w', fmt, `${base}/echo`, `${base}/other`]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /Content-Length: 5\nContent-Type: application\/x-www-form-urlencoded\n\|200 1\nhello\|200 0\n$/);

    // and the raw heads: Content-Length on each, no Connection: close
    const raw = await curl(['-s', '-D', '-', '-o', '/dev/null', '-o', '/dev/null', `${base}/x`, `${base}/echo`]);
    const heads = parseHeads(raw.stdout);
    assert.equal(heads.length, 2);
    for (const h of heads) {
      assert.equal(fieldValues(h, 'content-length').length, 1);
      assert.deepEqual(fieldValues(h, 'connection'), []);
    }
  });
});
