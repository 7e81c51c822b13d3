// The static file handler, called directly with fake requests (no sockets): content types,
// directories, 404s, caching and conditional requests, ranges, compression, the memory cache,
// hostile paths, dotfiles, symlinks, single-page apps and listings.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { Readable } from 'node:stream';
import { serveStatic, staticStats, type StaticOptions } from '../src/app/static/index.js';
import { parsePath } from '../src/app/static/paths.js';
import { acceptedEncodings, matchesWeak, matchesStrong, parseHttpDate, parseRanges, UNSATISFIABLE, ifRangeMatches } from '../src/app/static/conditional.js';
import { renderListing } from '../src/app/static/listing-page.js';
import type { Handler, SluiceResponse } from '../src/http/types.js';
import {
  CANARY, HOSTILE, HOSTILE_TREE, addHostileLinks, age, fakeReq, header, makeTree, readBody,
} from './fixtures/static/harness.js';

/** Lets the handler's event-loop turn end (it stats a cached file at most once per turn). */
const tick = () => new Promise<void>((r) => setImmediate(r));

const text5k = 'The quick brown fox jumps over the lazy dog. '.repeat(120); // ~5.4 KB, compressible

async function call(h: Handler, method: string, target: string, headers: Record<string, string> = {}): Promise<SluiceResponse & { text: string; buf: Buffer }> {
  const res = await h(fakeReq(method, target, headers));
  const buf = await readBody(res.body);
  return { ...res, buf, text: buf.toString() };
}

function tree(files: Record<string, string | Buffer>) {
  const t = makeTree(files);
  after(() => t.cleanup());
  return t;
}

describe('pure helpers', () => {
  test('parsePath', () => {
    assert.deepEqual(parsePath('/', false), { segments: [], trailingSlash: true });
    assert.deepEqual(parsePath('/a//b/', false), { segments: ['a', 'b'], trailingSlash: true });
    assert.deepEqual(parsePath('/a%20b/c%C3%A9', false), { segments: ['a b', 'cé'], trailingSlash: false });
    assert.equal(parsePath('/a%2Fb', false), 400);
    assert.equal(parsePath('/%', false), 400);
    assert.equal(parsePath('/%c0%ae', false), 400);
    assert.equal(parsePath('/..', false), 400);
    assert.equal(parsePath('/.x', false), 404);
    assert.deepEqual(parsePath('/.x', true), { segments: ['.x'], trailingSlash: false });
    assert.equal(parsePath('*', false), 400);
    assert.equal(parsePath('/' + 'x'.repeat(256), false), 404);
    assert.deepEqual(parsePath('/' + 'x'.repeat(255), false), { segments: ['x'.repeat(255)], trailingSlash: false });
  });

  test('parseRanges: one range', () => {
    const parseRange = (h: string, size: number) => { const r = parseRanges(h, size); return Array.isArray(r) && r.length === 1 ? r[0] : r; };
    assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=90-', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-1000', 100), { start: 0, end: 99 });
    assert.deepEqual(parseRange('bytes=50-1000', 100), { start: 50, end: 99 });
    assert.deepEqual(parseRange('Bytes = 1-2 ,', 100), { start: 1, end: 2 });
    assert.equal(parseRange('bytes=100-', 100), UNSATISFIABLE);
    assert.equal(parseRange('bytes=100-200', 100), UNSATISFIABLE);
    assert.equal(parseRange('bytes=-0', 100), UNSATISFIABLE);
    assert.equal(parseRange('bytes=99999999999999999999999-', 100), UNSATISFIABLE);
    assert.equal(parseRange('bytes=5-1', 100), null); // invalid → ignored
    assert.equal(parseRange('bytes=a-b', 100), null);
    assert.equal(parseRange('bytes=-', 100), null);
    assert.equal(parseRange('items=0-1', 100), null);
    assert.equal(parseRange('bytes 0-1', 100), null);
    assert.equal(parseRange('bytes=0-0', 0), null); // empty file: full (empty) 200
  });

  test('parseRanges: several ranges are merged when they overlap or touch, kept in order otherwise, and bounded', () => {
    assert.deepEqual(parseRanges('bytes=0-1,5-6', 100), [{ start: 0, end: 1 }, { start: 5, end: 6 }]);
    assert.deepEqual(parseRanges('bytes=50-59,0-1', 100), [{ start: 50, end: 59 }, { start: 0, end: 1 }], 'the order asked in');
    assert.deepEqual(parseRanges('bytes=0-10,5-20,21-30', 100), [{ start: 0, end: 30 }], 'overlapping and adjacent → one');
    assert.deepEqual(parseRanges('bytes=90-,0-1,-5', 100), [{ start: 90, end: 99 }, { start: 0, end: 1 }]);
    assert.deepEqual(parseRanges('bytes=0-1,200-300', 100), [{ start: 0, end: 1 }], 'unsatisfiable ones dropped');
    assert.equal(parseRanges('bytes=200-300,400-', 100), UNSATISFIABLE);
    assert.equal(parseRanges('bytes=0-1,x', 100), null, 'one malformed spec → the header is ignored');
    const many = 'bytes=' + Array.from({ length: 17 }, (_, i) => `${i * 3}-${i * 3}`).join(',');
    assert.equal(parseRanges(many, 100), null, 'more than maxRanges → full 200');
    const overlapping = 'bytes=' + Array.from({ length: 200 }, () => '0-99').join(',');
    assert.deepEqual(parseRanges(overlapping, 100), [{ start: 0, end: 99 }], '200 copies of the whole file → one range');
  });

  test('parseHttpDate: the three HTTP-date forms exactly, nothing else', () => {
    const t = Date.UTC(1994, 10, 6, 8, 49, 37) / 1000;
    assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), t);
    assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT'), t);
    assert.equal(parseHttpDate('Sun Nov  6 08:49:37 1994'), t);
    for (const bad of ['sun, 06 nov 1994 08:49:37 gmt', 'Sun, 06 Nov 1994 08:49:37', 'Sun, 6 Nov 1994 08:49:37 GMT',
      '1994-11-06T08:49:37Z', 'yesterday', 'Sun, 31 Feb 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 25:49:37 GMT', ' Sun, 06 Nov 1994 08:49:37 GMT']) {
      assert.ok(Number.isNaN(parseHttpDate(bad)), bad);
    }
  });

  test('entity tags and If-Range', () => {
    assert.ok(matchesWeak('"a"', '"a"'));
    assert.ok(matchesWeak('W/"a"', '"a"'));
    assert.ok(matchesWeak('"x", W/"a"', '"a"'));
    assert.ok(matchesWeak('"x,y" , "a"', '"a"'));
    assert.ok(matchesWeak('*', '"a"'));
    assert.ok(!matchesWeak('"b"', '"a"'));
    assert.ok(!matchesWeak('"x,"a""', '"a"'));
    assert.ok(matchesStrong('"a"', '"a"'));
    assert.ok(!matchesStrong('W/"a"', '"a"'));
    assert.ok(matchesStrong('"b", "a"', '"a"'));
    assert.ok(ifRangeMatches('"a"', '"a"', 0));
    assert.ok(!ifRangeMatches('W/"a"', '"a"', 0));
    assert.ok(!ifRangeMatches('"b"', '"a"', 0));
    assert.ok(ifRangeMatches('Thu, 01 Jan 1970 00:16:40 GMT', '"a"', 1000));
    assert.ok(!ifRangeMatches('Thu, 01 Jan 1970 00:16:41 GMT', '"a"', 1000));
    assert.ok(!ifRangeMatches('garbage', '"a"', 1000));
  });

  test('acceptedEncodings', () => {
    assert.deepEqual(acceptedEncodings('gzip, deflate, br'), ['br', 'gzip']);
    assert.deepEqual(acceptedEncodings('gzip'), ['gzip']);
    assert.deepEqual(acceptedEncodings('x-gzip'), ['gzip']);
    assert.deepEqual(acceptedEncodings('br;q=0, gzip'), ['gzip']);
    assert.deepEqual(acceptedEncodings('gzip;q=1, br;q=0.5'), ['gzip', 'br']);
    assert.deepEqual(acceptedEncodings('*'), ['br', 'gzip']);
    assert.deepEqual(acceptedEncodings('*;q=0'), []);
    assert.deepEqual(acceptedEncodings('identity'), []);
    assert.deepEqual(acceptedEncodings('deflate, zstd'), []);
    assert.deepEqual(acceptedEncodings('gzip;q=0, *'), ['br']);
  });

  test('listing escapes names in text and encodes them in links', () => {
    const html = renderListing('', ['a<b>'], [{ name: '<script>x</script>&"\'.txt', dir: false, size: 1, mtimeMs: 0 }, { name: 'd ?#%', dir: true, size: 0, mtimeMs: 0 }]);
    assert.ok(!html.includes('<script>'));
    assert.ok(html.includes('Index of /a&#60;b&#62;/'));
    assert.ok(html.includes('href="/a%3Cb%3E/%3Cscript%3Ex%3C%2Fscript%3E%26%22\'.txt"'.replace("'", '&#39;')));
    assert.ok(html.includes('href="/a%3Cb%3E/d%20%3F%23%25/"'));
    assert.ok(html.includes('href="/">../</a>'));
  });
});

describe('files', () => {
  const t = tree({
    'index.html': '<h1>home</h1>',
    'a.txt': 'hello a',
    'style.css': 'body{}',
    'app.js': 'console.log(1)',
    'data.json': '{"a":1}',
    'pic.svg': '<svg/>',
    'img.png': Buffer.from([0x89, 0x50, 0x4e, 0x47]),
    'blob.bin': Buffer.from([1, 2, 3]),
    'README': 'no extension',
    'empty.txt': '',
    'sub/index.html': 'sub index',
    'sub/x.txt': 'sub x',
    'noindex/f.txt': 'f',
    'space name.txt': 'spaced',
    'é.txt': 'accent',
  });
  const h = serveStatic(t.root);

  test('content types, with charset for text types', async () => {
    const cases: [string, string][] = [
      ['/index.html', 'text/html; charset=utf-8'],
      ['/a.txt', 'text/plain; charset=utf-8'],
      ['/style.css', 'text/css; charset=utf-8'],
      ['/app.js', 'text/javascript; charset=utf-8'],
      ['/data.json', 'application/json; charset=utf-8'],
      ['/pic.svg', 'image/svg+xml; charset=utf-8'],
      ['/img.png', 'image/png'],
      ['/blob.bin', 'application/octet-stream'],
      ['/README', 'application/octet-stream'],
    ];
    for (const [p, type] of cases) {
      const r = await call(h, 'GET', p);
      assert.equal(r.status, 200, p);
      assert.equal(header(r, 'content-type'), type, p);
    }
  });

  test('body, length, validators, Accept-Ranges, default Cache-Control', async () => {
    const r = await call(h, 'GET', '/a.txt');
    assert.equal(r.text, 'hello a');
    assert.equal(header(r, 'content-length'), '7');
    assert.match(header(r, 'etag')!, /^"[0-9a-f]+-7"$/);
    const st = fs.statSync(path.join(t.root, 'a.txt'));
    assert.equal(header(r, 'last-modified'), new Date(Math.floor(st.mtimeMs / 1000) * 1000).toUTCString());
    assert.equal(header(r, 'accept-ranges'), 'bytes');
    assert.equal(header(r, 'cache-control'), 'public, max-age=0, must-revalidate');
    assert.equal(header(r, 'vary'), 'Accept-Encoding');
    const png = await call(h, 'GET', '/img.png');
    assert.equal(header(png, 'vary'), undefined, 'no Vary for a type that is never compressed');
  });

  test('encoded names', async () => {
    assert.equal((await call(h, 'GET', '/space%20name.txt')).text, 'spaced');
    assert.equal((await call(h, 'GET', '/%C3%A9.txt')).text, 'accent');
    assert.equal((await call(h, 'GET', '/%61.txt')).text, 'hello a');
  });

  test('empty file', async () => {
    const r = await call(h, 'GET', '/empty.txt');
    assert.equal(r.status, 200);
    assert.equal(r.buf.length, 0);
    const rr = await call(h, 'GET', '/empty.txt', { range: 'bytes=0-' });
    assert.equal(rr.status, 200);
  });

  test('HEAD: same headers, length of the GET', async () => {
    const g = await call(h, 'GET', '/a.txt');
    const r = await h(fakeReq('HEAD', '/a.txt'));
    assert.equal(r.status ?? 200, 200);
    assert.equal(header(r, 'content-length'), '7');
    assert.equal(header(r, 'etag'), header(g, 'etag'));
  });

  test('other methods → 405 with Allow', async () => {
    for (const m of ['POST', 'PUT', 'DELETE', 'PATCH', 'get', 'options', 'TRACE']) {
      const r = await call(h, m, '/a.txt');
      assert.equal(r.status, 405, m);
      assert.equal(header(r, 'allow'), 'GET, HEAD, OPTIONS');
    }
  });

  test('OPTIONS (a path or "*") → 200 with Allow and an empty body', async () => {
    for (const target of ['*', '/a.txt', '/missing']) {
      const r = await call(h, 'OPTIONS', target);
      assert.equal(r.status, 200, target);
      assert.equal(header(r, 'allow'), 'GET, HEAD, OPTIONS');
      assert.equal(header(r, 'content-length'), '0');
      assert.equal(r.buf.length, 0);
    }
  });

  test('directory: index file; /dir → 301 /dir/ keeping the query', async () => {
    assert.equal((await call(h, 'GET', '/')).text, '<h1>home</h1>');
    assert.equal((await call(h, 'GET', '/sub/')).text, 'sub index');
    const r = await call(h, 'GET', '/sub?a=1&b=%20');
    assert.equal(r.status, 301);
    assert.equal(header(r, 'location'), '/sub/?a=1&b=%20');
    const r2 = await call(h, 'GET', '/sub');
    assert.equal(header(r2, 'location'), '/sub/');
  });

  test('redirects never start with //', async () => {
    fs.mkdirSync(path.join(t.root, 'evil.com'), { recursive: true });
    for (const p of ['//evil.com', '///evil.com', '//evil.com?x', '/%2Fevil.com', '//sub']) {
      const r = await call(h, 'GET', p);
      const loc = header(r, 'location');
      if (loc !== undefined) {
        assert.ok(loc.startsWith('/') && !loc.startsWith('//') && !loc.startsWith('/\\'), `${p} → ${loc}`);
      }
    }
    assert.equal(header(await call(h, 'GET', '//evil.com'), 'location'), '/evil.com/');
  });

  test('a file with a trailing slash is not found', async () => {
    assert.equal((await call(h, 'GET', '/a.txt/')).status, 404);
  });

  test('missing → plain 404; folder without index → 404', async () => {
    const r = await call(h, 'GET', '/nope.txt');
    assert.equal(r.status, 404);
    assert.equal(header(r, 'content-type'), 'text/plain; charset=utf-8');
    assert.equal((await call(h, 'GET', '/noindex/')).status, 404);
  });

  test('several index names: the first found wins', async () => {
    const t2 = tree({ 'd/home.htm': 'htm', 'd/x': 'x' });
    const h2 = serveStatic(t2.root, { index: ['index.html', 'home.htm'] });
    assert.equal((await call(h2, 'GET', '/d/')).text, 'htm');
    fs.writeFileSync(path.join(t2.root, 'd/index.html'), 'html');
    assert.equal((await call(h2, 'GET', '/d/')).text, 'html');
  });

  test('root must be a directory', () => {
    assert.throws(() => serveStatic(path.join(t.root, 'nope')), /no such directory/);
    assert.throws(() => serveStatic(path.join(t.root, 'a.txt')), /not a directory/);
  });
});

describe('404.html', () => {
  test('served with status 404 for anything missing', async () => {
    const t = tree({ '404.html': '<h1>lost</h1>', 'a.txt': 'a', 'd/x.txt': 'x' });
    const h = serveStatic(t.root);
    for (const p of ['/nope', '/d/nope.txt', '/.hidden', '/d/']) {
      const r = await call(h, 'GET', p);
      assert.equal(r.status, 404, p);
      assert.equal(r.text, '<h1>lost</h1>', p);
      assert.equal(header(r, 'content-type'), 'text/html; charset=utf-8');
    }
    const head = await h(fakeReq('HEAD', '/nope'));
    assert.equal(head.status, 404);
    assert.equal((await call(h, 'GET', '/404.html')).status, 200);
  });
});

describe('caching and conditional requests', () => {
  const t = tree({ 'a.txt': 'hello a' });
  age(path.join(t.root, 'a.txt'));
  const h = serveStatic(t.root, { cacheControl: 'public, max-age=60' });
  const get = (hd: Record<string, string> = {}) => call(h, 'GET', '/a.txt', hd);

  test('configurable Cache-Control, also on 304', async () => {
    const r = await get();
    assert.equal(header(r, 'cache-control'), 'public, max-age=60');
    const nm = await get({ 'if-none-match': header(r, 'etag')! });
    assert.equal(nm.status, 304);
    assert.equal(header(nm, 'cache-control'), 'public, max-age=60');
    assert.equal(header(nm, 'etag'), header(r, 'etag'));
    assert.equal(nm.buf.length, 0);
    const none = serveStatic(t.root, { cacheControl: '' });
    assert.equal(header(await call(none, 'GET', '/a.txt'), 'cache-control'), undefined);
  });

  test('If-None-Match: exact, weak, in a list, *; mismatch → 200', async () => {
    const etag = header(await get(), 'etag')!;
    assert.equal((await get({ 'if-none-match': etag })).status, 304);
    assert.equal((await get({ 'if-none-match': `W/${etag}` })).status, 304);
    assert.equal((await get({ 'if-none-match': `"zzz", ${etag}` })).status, 304);
    assert.equal((await get({ 'if-none-match': '*' })).status, 304);
    assert.equal((await get({ 'if-none-match': '"zzz"' })).status, 200);
  });

  test('If-Modified-Since; If-None-Match takes precedence', async () => {
    const lm = header(await get(), 'last-modified')!;
    assert.equal((await get({ 'if-modified-since': lm })).status, 304);
    assert.equal((await get({ 'if-modified-since': new Date(Date.now() - 1000).toUTCString() })).status, 304);
    assert.equal((await get({ 'if-modified-since': new Date(Date.parse(lm) - 1000).toUTCString() })).status, 200);
    assert.equal((await get({ 'if-modified-since': 'yesterday' })).status, 200);
    assert.equal((await get({ 'if-modified-since': new Date(Date.now() + 86400_000).toUTCString() })).status, 200, 'a date in the future is invalid');
    assert.equal((await get({ 'if-none-match': '"zzz"', 'if-modified-since': lm })).status, 200);
    const etag = header(await get(), 'etag')!;
    assert.equal((await get({ 'if-none-match': etag, 'if-modified-since': 'Thu, 01 Jan 1970 00:00:00 GMT' })).status, 304);
  });

  test('If-Match / If-Unmodified-Since → 412 on mismatch', async () => {
    const r = await get();
    assert.equal((await get({ 'if-match': '"zzz"' })).status, 412);
    assert.equal((await get({ 'if-match': header(r, 'etag')! })).status, 200);
    assert.equal((await get({ 'if-unmodified-since': 'Thu, 01 Jan 1970 00:00:00 GMT' })).status, 412);
    assert.equal((await get({ 'if-unmodified-since': header(r, 'last-modified')! })).status, 200);
  });

  test('a changed file is served new at once (in place, same size; and replaced by rename)', async () => {
    const t2 = tree({ 'f.txt': 'version-1' });
    const h2 = serveStatic(t2.root); // default racy window: a just-written file is never trusted from cache
    const f = path.join(t2.root, 'f.txt');
    assert.equal((await call(h2, 'GET', '/f.txt')).text, 'version-1');
    fs.writeFileSync(f, 'version-2');
    assert.equal((await call(h2, 'GET', '/f.txt')).text, 'version-2');
    fs.writeFileSync(f + '.tmp', 'version-3');
    fs.renameSync(f + '.tmp', f);
    assert.equal((await call(h2, 'GET', '/f.txt')).text, 'version-3');
  });

  test('cached entries are validated by stat on each request', async () => {
    const t2 = tree({ 'f.txt': 'v1', 'g.txt': 'gg' });
    const h2 = serveStatic(t2.root, { racyWindowMs: 0 }); // cache even just-written files
    const f = path.join(t2.root, 'f.txt');
    assert.equal((await call(h2, 'GET', '/f.txt')).text, 'v1');
    assert.equal((await call(h2, 'GET', '/f.txt')).text, 'v1');
    assert.ok(staticStats(h2)!.hits >= 1, 'second request served from the cache');
    await tick();
    assert.equal((await call(h2, 'GET', '/f.txt')).text, 'v1');
    fs.writeFileSync(f, 'version 2');
    assert.equal((await call(h2, 'GET', '/f.txt')).text, 'v1', 'within one event-loop turn the stat is not repeated');
    await tick();
    assert.equal((await call(h2, 'GET', '/f.txt')).text, 'version 2');
    await tick();
    fs.rmSync(f);
    await tick();
    assert.equal((await call(h2, 'GET', '/f.txt')).status, 404);
    fs.symlinkSync('g.txt', f);
    await tick();
    assert.equal((await call(h2, 'GET', '/f.txt')).text, 'gg');
    fs.rmSync(f);
    fs.symlinkSync('../canary.txt', f);
    await tick();
    const r = await call(h2, 'GET', '/f.txt');
    assert.equal(r.status, 404);
    assert.ok(!r.text.includes(CANARY));
  });

  test('the same-size rewrite within one timestamp tick is caught by the racy window', async () => {
    const t2 = tree({ 'f.txt': 'AAAA' });
    const h2 = serveStatic(t2.root);
    const f = path.join(t2.root, 'f.txt');
    for (let i = 0; i < 20; i++) {
      const v = String(i % 10).repeat(4);
      fs.writeFileSync(f, v);
      assert.equal((await call(h2, 'GET', '/f.txt')).text, v);
      assert.equal((await call(h2, 'GET', '/f.txt')).text, v);
    }
  });

  test('memory cache stays within memoryCacheBytes', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 20; i++) files[`f${i}.txt`] = String(i % 10).repeat(4000);
    const t2 = tree(files);
    const h2 = serveStatic(t2.root, { memoryCacheBytes: 20_000, racyWindowMs: 0 });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 20; i++) {
        const r = await call(h2, 'GET', `/f${i}.txt`);
        assert.equal(r.text, String(i % 10).repeat(4000));
        assert.ok(staticStats(h2)!.cachedBytes <= 20_000, `cachedBytes ${staticStats(h2)!.cachedBytes}`);
      }
    }
    assert.ok(staticStats(h2)!.cachedBytes > 0);
  });

  test('files above maxCachedFileBytes are streamed', async () => {
    const big = Buffer.alloc(300_000, 'x');
    big.write('START', 0);
    big.write('END', big.length - 3);
    const t2 = tree({ 'big.txt': big });
    const h2 = serveStatic(t2.root, { maxCachedFileBytes: 100_000, racyWindowMs: 0 });
    const r = await h2(fakeReq('GET', '/big.txt'));
    assert.ok(r.body instanceof Readable, 'a stream');
    assert.equal(header(r, 'content-length'), '300000');
    assert.ok((await readBody(r.body)).equals(big));
    const rr = await call(h2, 'GET', '/big.txt', { range: 'bytes=-3' });
    assert.equal(rr.status, 206);
    assert.equal(rr.text, 'END');
    const head = await h2(fakeReq('HEAD', '/big.txt'));
    assert.equal(head.body, null, 'no stream opened for HEAD');
    assert.equal(header(head, 'content-length'), '300000');
    assert.equal(staticStats(h2)!.cachedBytes, 0);
  });
});

describe('ranges', () => {
  const content = '0123456789abcdefghij'; // 20 bytes
  const t = tree({ 'r.txt': content });
  const h = serveStatic(t.root);
  const get = (hd: Record<string, string>) => call(h, 'GET', '/r.txt', hd);

  test('single ranges → 206 with Content-Range', async () => {
    const cases: [string, string, string][] = [
      ['bytes=0-4', '01234', 'bytes 0-4/20'],
      ['bytes=15-', 'fghij', 'bytes 15-19/20'],
      ['bytes=-3', 'hij', 'bytes 17-19/20'],
      ['bytes=10-100', 'abcdefghij', 'bytes 10-19/20'],
      ['bytes=-100', content, 'bytes 0-19/20'],
      ['bytes=5-5', '5', 'bytes 5-5/20'],
    ];
    for (const [range, body, cr] of cases) {
      const r = await get({ range });
      assert.equal(r.status, 206, range);
      assert.equal(r.text, body, range);
      assert.equal(header(r, 'content-range'), cr, range);
      assert.equal(header(r, 'content-length'), String(body.length), range);
    }
  });

  test('unsatisfiable → 416 with bytes */size', async () => {
    for (const range of ['bytes=20-', 'bytes=25-30', 'bytes=-0']) {
      const r = await get({ range });
      assert.equal(r.status, 416, range);
      assert.equal(header(r, 'content-range'), 'bytes */20');
    }
  });

  test('other units, malformed → full 200', async () => {
    for (const range of ['lines=0-1', 'bytes=3-1', 'bytes=x', 'bytes=', 'bytes=0-1,x']) {
      const r = await get({ range });
      assert.equal(r.status, 200, range);
      assert.equal(r.text, content, range);
    }
  });

  test('If-Range: matching ETag or date → 206; else full 200', async () => {
    const full = await get({});
    const etag = header(full, 'etag')!;
    const lm = header(full, 'last-modified')!;
    assert.equal((await get({ range: 'bytes=0-1', 'if-range': etag })).status, 206);
    assert.equal((await get({ range: 'bytes=0-1', 'if-range': lm })).status, 206);
    assert.equal((await get({ range: 'bytes=0-1', 'if-range': '"other"' })).status, 200);
    assert.equal((await get({ range: 'bytes=0-1', 'if-range': `W/${etag}` })).status, 200);
    assert.equal((await get({ range: 'bytes=0-1', 'if-range': new Date(Date.parse(lm) - 5000).toUTCString() })).status, 200);
    const r = await get({ range: 'bytes=0-1', 'if-range': '"other"' });
    assert.equal(r.text, content);
  });

  test('HEAD with a range → 200 describing the whole file (ranges are for GET)', async () => {
    const r = await h(fakeReq('HEAD', '/r.txt', { range: 'bytes=0-4' }));
    assert.equal(r.status, 200);
    assert.equal(header(r, 'content-length'), '20');
    assert.equal(header(r, 'content-range'), undefined);
  });
});

describe('compression', () => {
  const gz = zlib.gzipSync(text5k);
  const br = zlib.brotliCompressSync(text5k);
  const t = tree({
    'pre.js': text5k, 'pre.js.gz': gz, 'pre.js.br': br,
    'onlygz.css': text5k, 'onlygz.css.gz': gz,
    'plain.txt': text5k, 'small.txt': 'tiny text', 'img.png': Buffer.alloc(5000, 7),
    'big.txt': text5k.repeat(100),
  });

  test('precompressed siblings, by Accept-Encoding', async () => {
    const h = serveStatic(t.root);
    const id = await call(h, 'GET', '/pre.js');
    assert.equal(id.text, text5k);
    assert.equal(header(id, 'content-encoding'), undefined);
    const b = await call(h, 'GET', '/pre.js', { 'accept-encoding': 'gzip, deflate, br' });
    assert.equal(header(b, 'content-encoding'), 'br');
    assert.ok(b.buf.equals(br));
    assert.equal(header(b, 'content-type'), 'text/javascript; charset=utf-8');
    assert.equal(header(b, 'vary'), 'Accept-Encoding');
    assert.equal(header(b, 'content-length'), String(br.length));
    const g = await call(h, 'GET', '/pre.js', { 'accept-encoding': 'gzip' });
    assert.equal(header(g, 'content-encoding'), 'gzip');
    assert.ok(g.buf.equals(gz));
    const g2 = await call(h, 'GET', '/pre.js', { 'accept-encoding': 'br;q=0, gzip' });
    assert.equal(header(g2, 'content-encoding'), 'gzip');
    const etags = new Set([header(id, 'etag'), header(b, 'etag'), header(g, 'etag')]);
    assert.equal(etags.size, 3, 'an ETag per encoding');
    // 304 per encoding; the br ETag does not validate the identity response
    assert.equal((await call(h, 'GET', '/pre.js', { 'accept-encoding': 'br', 'if-none-match': header(b, 'etag')! })).status, 304);
    assert.equal((await call(h, 'GET', '/pre.js', { 'if-none-match': header(b, 'etag')! })).status, 200);
    // ranges apply to the encoded bytes
    const rb = await call(h, 'GET', '/pre.js', { 'accept-encoding': 'br', range: 'bytes=0-9' });
    assert.equal(rb.status, 206);
    assert.ok(rb.buf.equals(br.subarray(0, 10)));
    // only the encodings that exist
    const c = await call(h, 'GET', '/onlygz.css', { 'accept-encoding': 'br, gzip' });
    assert.equal(header(c, 'content-encoding'), 'gzip');
    const c2 = await call(h, 'GET', '/onlygz.css', { 'accept-encoding': 'br' });
    assert.equal(header(c2, 'content-encoding'), undefined);
    assert.equal(c2.text, text5k);
    // a new sibling is seen at once
    fs.writeFileSync(path.join(t.root, 'onlygz.css.br'), br);
    const c3 = await call(h, 'GET', '/onlygz.css', { 'accept-encoding': 'br' });
    assert.equal(header(c3, 'content-encoding'), 'br');
    fs.rmSync(path.join(t.root, 'onlygz.css.br'));
    assert.equal(header(await call(h, 'GET', '/onlygz.css', { 'accept-encoding': 'br' }), 'content-encoding'), undefined);
  });

  test('a precompressed sibling that is a symlink out of the root is refused', async () => {
    const t2 = tree({ 'x.js': text5k });
    fs.writeFileSync(path.join(t2.base, 'evil.br'), CANARY);
    fs.symlinkSync('../evil.br', path.join(t2.root, 'x.js.br'));
    const r = await call(serveStatic(t2.root), 'GET', '/x.js', { 'accept-encoding': 'br' });
    assert.equal(r.text, text5k);
  });

  test('on the fly (compress: true), once per file version', async () => {
    const h = serveStatic(t.root, { compress: true, racyWindowMs: 0 });
    const g = await call(h, 'GET', '/plain.txt', { 'accept-encoding': 'gzip' });
    assert.equal(header(g, 'content-encoding'), 'gzip');
    assert.equal(zlib.gunzipSync(g.buf).toString(), text5k);
    assert.equal(header(g, 'vary'), 'Accept-Encoding');
    assert.ok(g.buf.length < text5k.length / 4);
    const b = await call(h, 'GET', '/plain.txt', { 'accept-encoding': 'br, gzip' });
    assert.equal(header(b, 'content-encoding'), 'br');
    assert.equal(zlib.brotliDecompressSync(b.buf).toString(), text5k);
    const before = staticStats(h)!.compressions;
    // concurrent and repeated requests reuse the compressed copy
    await Promise.all(Array.from({ length: 10 }, () => call(h, 'GET', '/plain.txt', { 'accept-encoding': 'gzip' })));
    await Promise.all(Array.from({ length: 10 }, () => call(h, 'GET', '/plain.txt', { 'accept-encoding': 'br' })));
    assert.equal(staticStats(h)!.compressions, before);
    // concurrent first requests compress once
    const c0 = staticStats(h)!.compressions;
    const rs = await Promise.all(Array.from({ length: 5 }, () => call(h, 'GET', '/big.txt', { 'accept-encoding': 'gzip' })));
    for (const r of rs) assert.equal(zlib.gunzipSync(r.buf).toString(), text5k.repeat(100));
    assert.equal(staticStats(h)!.compressions, c0 + 1);
    // not compressed: small, incompressible type, client does not accept
    assert.equal(header(await call(h, 'GET', '/small.txt', { 'accept-encoding': 'gzip' }), 'content-encoding'), undefined);
    assert.equal(header(await call(h, 'GET', '/img.png', { 'accept-encoding': 'gzip' }), 'content-encoding'), undefined);
    assert.equal(header(await call(h, 'GET', '/plain.txt', { 'accept-encoding': 'identity' }), 'content-encoding'), undefined);
    // a changed file is compressed again
    fs.writeFileSync(path.join(t.root, 'plain.txt'), text5k + 'more');
    await tick();
    const g2 = await call(h, 'GET', '/plain.txt', { 'accept-encoding': 'gzip' });
    assert.equal(zlib.gunzipSync(g2.buf).toString(), text5k + 'more');
    assert.notEqual(header(g2, 'etag'), header(g, 'etag'));
    // precompressed siblings win over on-the-fly
    const p = await call(h, 'GET', '/pre.js', { 'accept-encoding': 'gzip' });
    assert.ok(p.buf.equals(gz));
  });

  test('without compress, no compression on the fly', async () => {
    const h = serveStatic(t.root);
    const r = await call(h, 'GET', '/plain.txt', { 'accept-encoding': 'gzip, br' });
    assert.equal(header(r, 'content-encoding'), undefined);
  });
});

describe('safety', () => {
  const t = tree(HOSTILE_TREE);
  addHostileLinks(t.root);
  for (const opts of [{}, { list: true, single: true }] as StaticOptions[]) {
    test(`hostile paths never reach outside the root ${JSON.stringify(opts)}`, async () => {
      const h = serveStatic(t.root, opts);
      for (const { path: p, status } of HOSTILE) {
        for (const method of ['GET', 'HEAD']) {
          const r = await call(h, method, p, { 'accept-encoding': 'gzip, br' });
          assert.ok(!r.text.includes(CANARY), `${method} ${p} leaked the canary`);
          assert.ok(!r.text.includes('SECRET') && !r.text.includes('git config') && r.text !== 'hidden', `${p} leaked a dotfile`);
          const allowed = opts.single ? [...status, 200, 404] : status;
          assert.ok(allowed.includes(r.status!), `${method} ${p.slice(0, 80)}: ${r.status} not in ${status}`);
          if (r.status === 200) assert.equal(r.text, '<h1>home</h1>', `${p}: only the SPA index may be served`);
        }
      }
    });
  }

  test('symlinks inside the root are followed', async () => {
    const h = serveStatic(t.root);
    assert.equal((await call(h, 'GET', '/inlink.txt')).text, 'hello a');
  });

  test('dotfiles option', async () => {
    const h = serveStatic(t.root, { dotfiles: true });
    assert.equal((await call(h, 'GET', '/.hidden')).text, 'hidden');
    assert.equal((await call(h, 'GET', '/sub/.env')).text, 'SECRET=1');
    assert.equal((await call(h, 'GET', '/..')).status, 400);
    assert.ok(!(await call(h, 'GET', '/link.txt')).text.includes(CANARY));
  });

  test('a root given through a symlink works, and its outside stays outside', async () => {
    const link = path.join(t.base, 'rootlink');
    fs.symlinkSync('root', link);
    const h = serveStatic(link);
    assert.equal((await call(h, 'GET', '/a.txt')).text, 'hello a');
    assert.equal((await call(h, 'GET', '/link.txt')).status, 404);
  });
});

describe('single-page app', () => {
  const t = tree({ 'index.html': 'app shell', 'app.js': 'js', 'sub/page.html': 'page', 'nested/': '' });
  const h = serveStatic(t.root, { single: true });

  test('unknown paths without an extension → index.html (200)', async () => {
    for (const p of ['/users/42', '/settings', '/a/b/c/', '/nested/x']) {
      const r = await call(h, 'GET', p);
      assert.equal(r.status, 200, p);
      assert.equal(r.text, 'app shell', p);
    }
  });

  test('real files and missing files with an extension', async () => {
    assert.equal((await call(h, 'GET', '/app.js')).text, 'js');
    assert.equal((await call(h, 'GET', '/sub/page.html')).text, 'page');
    assert.equal((await call(h, 'GET', '/missing.js')).status, 404);
    assert.equal((await call(h, 'GET', '/img/logo.png')).status, 404);
  });

  test('a file that appears later is served', async () => {
    assert.equal((await call(h, 'GET', '/later')).text, 'app shell');
    fs.writeFileSync(path.join(t.root, 'later'), 'now a file');
    assert.equal((await call(h, 'GET', '/later')).text, 'now a file');
  });
});

describe('directory listing', () => {
  const t = tree({ 'a.txt': 'a', '<b>&.txt': 'b', 'sp ace/x': 'x', '.secret': 's', 'withindex/index.html': 'idx' });
  const h = serveStatic(t.root, { list: true });

  test('lists names, escaped and encoded; dotfiles hidden', async () => {
    const r = await call(h, 'GET', '/');
    assert.equal(r.status, 200);
    assert.equal(header(r, 'content-type'), 'text/html; charset=utf-8');
    assert.ok(r.text.includes('href="/a.txt"'));
    assert.ok(r.text.includes('&#60;b&#62;&#38;.txt'));
    assert.ok(r.text.includes('href="/%3Cb%3E%26.txt"'));
    assert.ok(r.text.includes('href="/sp%20ace/"'));
    assert.ok(!r.text.includes('.secret'));
    assert.ok(!r.text.includes('<b>'));
    const sub = await call(h, 'GET', '/sp%20ace/');
    assert.ok(sub.text.includes('Index of /sp ace/'));
    assert.ok(sub.text.includes('href="/">../</a>'));
    assert.equal((await call(h, 'GET', '/withindex/')).text, 'idx');
  });

  test('no listing without the option', async () => {
    assert.equal((await call(serveStatic(t.root), 'GET', '/sp%20ace/')).status, 404);
  });
});
