// The static handler's HTTP semantics beyond the basics: multipart/byteranges, HEAD with Range,
// strict HTTP-dates, OPTIONS (also "*" over a real socket), file-system failures → 503 (never a
// cacheable 404), and the racy-window rule at its edge (a file time "in the future").
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { serveStatic, staticStats } from '../src/app/static/index.js';
import { serve } from '../src/server/server.js';
import type { Handler, SluiceResponse } from '../src/http/types.js';
import { fakeReq, header, makeTree, rawHttp, readBody } from './fixtures/static/harness.js';

async function call(h: Handler, method: string, target: string, headers: Record<string, string> = {}): Promise<SluiceResponse & { buf: Buffer; text: string }> {
  const res = await h(fakeReq(method, target, headers));
  const buf = await readBody(res.body);
  return { ...res, buf, text: buf.toString('latin1') };
}

function tree(files: Record<string, string | Buffer>) {
  const t = makeTree(files);
  after(() => t.cleanup());
  return t;
}

/** Splits a multipart/byteranges body into its parts' Content-Range and bytes. */
function parseMultipart(body: Buffer, contentType: string): { range: string; type: string; data: string }[] {
  const boundary = /boundary=([^;]+)/.exec(contentType)![1]!;
  const text = body.toString('latin1');
  assert.ok(text.endsWith(`\r\n--${boundary}--\r\n`), 'closing delimiter');
  const parts = text.slice(0, -(`\r\n--${boundary}--\r\n`.length)).split(new RegExp(`(?:^|\\r\\n)--${boundary}\\r\\n`)).slice(1);
  return parts.map((p) => {
    const end = p.indexOf('\r\n\r\n');
    const head = p.slice(0, end);
    return {
      range: /Content-Range: (.*)/.exec(head)![1]!,
      type: /Content-Type: (.*)/.exec(head)![1]!,
      data: p.slice(end + 4),
    };
  });
}

const content = '0123456789abcdefghij'; // 20 bytes

describe('multipart/byteranges', () => {
  const t = tree({ 'r.txt': content });
  for (const [label, opts] of [['in memory', {}], ['streamed', { maxCachedFileBytes: 0 }]] as const) {
    test(`several ranges → 206 multipart with each part's range, in the order asked (${label})`, async () => {
      const h = serveStatic(t.root, opts);
      const r = await call(h, 'GET', '/r.txt', { range: 'bytes=15-16,0-1,-2' });
      assert.equal(r.status, 206);
      const type = header(r, 'content-type')!;
      assert.match(type, /^multipart\/byteranges; boundary=\w+$/);
      assert.equal(header(r, 'content-length'), String(r.buf.length));
      assert.equal(header(r, 'content-range'), undefined);
      const parts = parseMultipart(r.buf, type);
      assert.deepEqual(parts.map((p) => [p.range, p.data]), [['bytes 15-16/20', 'fg'], ['bytes 0-1/20', '01'], ['bytes 18-19/20', 'ij']]);
      for (const p of parts) assert.equal(p.type, 'text/plain; charset=utf-8');
    });
  }

  test('overlapping and adjacent ranges are merged; a single merged range is a plain 206', async () => {
    const h = serveStatic(t.root);
    const r = await call(h, 'GET', '/r.txt', { range: 'bytes=0-3,2-5,6-9' });
    assert.equal(r.status, 206);
    assert.equal(header(r, 'content-range'), 'bytes 0-9/20');
    assert.equal(r.text, '0123456789');
  });

  test('over a real socket, two bytes of a large file cost a few hundred bytes, not the file', async () => {
    const big = tree({ 'big.bin': Buffer.alloc(4 * 1024 * 1024, 'z') });
    const srv = await serve(serveStatic(big.root), { port: 0 });
    try {
      const r = await rawHttp(srv.port, 'GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-0,-1\r\nConnection: close\r\n\r\n');
      assert.equal(r.status, 206);
      assert.ok(r.body.length < 400, `${r.body.length} bytes`);
      assert.deepEqual(parseMultipart(r.body, r.headers['content-type']!).map((p) => p.data), ['z', 'z']);
    } finally {
      await srv.close(1000);
    }
  });
});

describe('HEAD, dates, OPTIONS', () => {
  const t = tree({ 'r.txt': content });
  const h = serveStatic(t.root);

  test('If-Modified-Since that is not an exact HTTP-date is ignored (200, not 304)', async () => {
    const lm = header(await call(h, 'GET', '/r.txt'), 'last-modified')!;
    assert.equal((await call(h, 'GET', '/r.txt', { 'if-modified-since': lm })).status, 304);
    assert.equal((await call(h, 'GET', '/r.txt', { 'if-modified-since': lm.toLowerCase() })).status, 200);
    assert.equal((await call(h, 'GET', '/r.txt', { 'if-modified-since': lm.replace(' GMT', ' UTC') })).status, 200);
    assert.equal((await call(h, 'GET', '/r.txt', { 'if-modified-since': new Date().toISOString() })).status, 200);
  });

  test('HEAD with Range over a real socket → 200 with the full length', async () => {
    const srv = await serve(h, { port: 0 });
    try {
      const r = await rawHttp(srv.port, 'HEAD /r.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\nConnection: close\r\n\r\n', { head: true });
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-length'], '20');
      assert.equal(r.headers['content-range'], undefined);
    } finally {
      await srv.close(1000);
    }
  });

  test('OPTIONS * over a real socket → 200 with Allow', async () => {
    const srv = await serve(h, { port: 0 });
    try {
      const r = await rawHttp(srv.port, 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.equal(r.status, 200);
      assert.equal(r.headers['allow'], 'GET, HEAD, OPTIONS');
      assert.equal(r.headers['content-length'], '0');
    } finally {
      await srv.close(1000);
    }
  });
});

describe('file-system failures', () => {
  /** Makes fs.promises[name] fail with `code` while `fn` runs. */
  async function failing<T>(name: 'open' | 'realpath' | 'stat', code: string, fn: () => Promise<T>): Promise<T> {
    const original = fs.promises[name];
    (fs.promises as unknown as Record<string, unknown>)[name] = async () => {
      throw Object.assign(new Error(`${code}: injected`), { code });
    };
    try {
      return await fn();
    } finally {
      (fs.promises as unknown as Record<string, unknown>)[name] = original;
    }
  }

  test('EMFILE / ENFILE / EIO → 503 with Retry-After and no-store, and one log line; the file is served once the fs recovers', async () => {
    const t = tree({ 'a.txt': 'hello' });
    const lines: string[] = [];
    const h = serveStatic(t.root, { logError: (l) => lines.push(l) });
    for (const [op, code] of [['open', 'EMFILE'], ['realpath', 'ENFILE'], ['stat', 'EIO']] as const) {
      const r = await failing(op, code, () => call(h, 'GET', '/a.txt'));
      assert.equal(r.status, 503, `${op} ${code}`);
      assert.equal(header(r, 'retry-after'), '1');
      assert.equal(header(r, 'cache-control'), 'no-store');
    }
    assert.equal(staticStats(h)!.unavailable, 3);
    assert.ok(lines.length >= 1 && lines.length <= 3, lines.join('\n'));
    assert.match(lines[0]!, /EMFILE/);
    assert.equal((await call(h, 'GET', '/a.txt')).text, 'hello');
  });

  test('ENOENT, ENOTDIR, ELOOP, EACCES, ENAMETOOLONG are "not found" (404)', async () => {
    const t = tree({ 'a.txt': 'hello' });
    const h = serveStatic(t.root, { logError: () => assert.fail('no log line for a missing file') });
    for (const code of ['ENOENT', 'ENOTDIR', 'ELOOP', 'EACCES', 'ENAMETOOLONG']) {
      const r = await failing('open', code, () => call(serveStatic(t.root), 'GET', '/a.txt'));
      assert.equal(r.status, 404, code);
    }
    assert.equal((await call(h, 'GET', '/missing')).status, 404);
  });

  test('over a real socket: EMFILE on open → 503, the connection stays usable', async () => {
    const t = tree({ 'a.txt': 'hello' });
    const srv = await serve(serveStatic(t.root, { logError: () => {} }), { port: 0 });
    try {
      const r = await failing('open', 'EMFILE', () => rawHttp(srv.port, 'GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      assert.equal(r.status, 503);
      assert.equal(r.headers['retry-after'], '1');
      const ok = await rawHttp(srv.port, 'GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.equal(ok.body.toString(), 'hello');
    } finally {
      await srv.close(1000);
    }
  });
});

describe('racy window', () => {
  test('racyWindowMs 0 caches a file whose time is ahead of Date.now() (sub-millisecond file times)', async () => {
    // A file written in the current millisecond has an mtime with a fraction above Date.now():
    // "age < 0" must not count as racy when the rule is off. Exaggerated here to be deterministic.
    const t = tree({ 'f.txt': 'v1' });
    const future = new Date(Date.now() + 10_000);
    fs.utimesSync(path.join(t.root, 'f.txt'), future, future);
    const h = serveStatic(t.root, { racyWindowMs: 0 });
    await call(h, 'GET', '/f.txt');
    await call(h, 'GET', '/f.txt');
    assert.equal(staticStats(h)!.hits, 1, 'second request served from the cache');
  });

  test('with the default window, a file time in the future is racy (not cached)', async () => {
    const t = tree({ 'f.txt': 'v1' });
    const future = new Date(Date.now() + 10_000);
    fs.utimesSync(path.join(t.root, 'f.txt'), future, future);
    const h = serveStatic(t.root);
    await call(h, 'GET', '/f.txt');
    await call(h, 'GET', '/f.txt');
    assert.equal(staticStats(h)!.hits, 0);
  });
});

describe('OPTIONS * through a Router', () => {
  test('without a fallback: 200 with the methods the routes take; with a static fallback: its answer', async () => {
    const { Router } = await import('../src/app/router.js');
    const app = new Router().get('/a', () => ({ body: 'a' })).post('/b/:id', () => ({ body: 'b' }));
    const srv = await serve(app.handle, { port: 0 });
    try {
      const r = await rawHttp(srv.port, 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.equal(r.status, 200);
      assert.equal(r.headers['allow'], 'GET, HEAD, POST, OPTIONS');
    } finally {
      await srv.close(1000);
    }
    const t = tree({ 'x.txt': 'x' });
    const withFiles = new Router().post('/b', () => ({ body: 'b' })).fallback(serveStatic(t.root));
    const r = await call(withFiles.handle, 'OPTIONS', '*');
    assert.equal(r.status, 200);
    assert.equal(header(r, 'allow'), 'GET, HEAD, OPTIONS');
  });
});
