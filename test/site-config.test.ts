// Site configuration: path patterns and the checks of sluice.json (pure), then the real CLI over
// real sockets — headers per path, redirects with captures, rewrites, clean URLs, trailing
// slashes, --cors with its preflight, --header — and an invalid file refused at start-up (exit 2).
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { compilePattern, fillDestination, matchPattern } from '../src/app/config/patterns.js';
import { applySiteRules, checkSiteConfig, mergeHeaders, SiteConfigError } from '../src/app/config/index.js';
import type { Handler } from '../src/http/types.js';
import { runCli, startCli, type Running } from './helpers/cli.js';
import { fakeReq, header, makeTree } from './fixtures/static/harness.js';

const T = { timeout: 20_000 };

describe('patterns', () => {
  test('":name" is one segment, "**" any rest, "*" part of a segment; a trailing slash is optional', () => {
    const p = compilePattern('/blog/:slug');
    assert.deepEqual(matchPattern(p, '/blog/hello'), { slug: 'hello' });
    assert.deepEqual(matchPattern(p, '/blog/hello/'), { slug: 'hello' });
    assert.equal(matchPattern(p, '/blog/'), null);
    assert.equal(matchPattern(p, '/blog/a/b'), null);
    const rest = compilePattern('/docs/**');
    assert.deepEqual(matchPattern(rest, '/docs/a/b.html'), { splat: 'a/b.html' });
    assert.deepEqual(matchPattern(rest, '/docs'), { splat: '' });
    assert.equal(matchPattern(rest, '/docsx'), null);
    const js = compilePattern('/**/*.js');
    assert.ok(matchPattern(js, '/a/b/app.js'));
    assert.ok(matchPattern(js, '/app.js'));
    assert.equal(matchPattern(js, '/app.json'), null);
    assert.deepEqual(matchPattern(compilePattern('/u/:id/:rest*'), '/u/7/x/y'), { id: '7', rest: 'x/y' });
    assert.ok(matchPattern(compilePattern('/'), '/'));
    assert.equal(matchPattern(compilePattern('/'), '/a'), null);
    assert.equal(matchPattern(compilePattern('/a.b'), '/axb'), null, '"." is literal');
  });

  test('destinations: captures filled, ports kept, never "//host"', () => {
    assert.equal(fillDestination('/new/:slug', { slug: 'x' }), '/new/x');
    assert.equal(fillDestination('https://example.com:8443/:splat', { splat: 'a/b' }), 'https://example.com:8443/a/b');
    assert.equal(fillDestination('/:splat', { splat: '/evil.example' }), '/evil.example');
  });

  test('mergeHeaders replaces names case-insensitively and joins Vary', () => {
    assert.deepEqual(mergeHeaders({ 'Cache-Control': 'a', Vary: 'Accept-Encoding', ETag: '"x"' }, { 'cache-control': 'b', Vary: 'Origin' }),
      { ETag: '"x"', 'cache-control': 'b', Vary: 'Accept-Encoding, Origin' });
  });
});

describe('checking sluice.json', () => {
  const bad: [unknown, RegExp][] = [
    [[], /must be an object, got a list/],
    [{ redirect: [] }, /"redirect" is not a known field/],
    [{ cleanUrls: 'yes' }, /cleanUrls must be true or false, got "yes"/],
    [{ redirects: [{ source: '/a', destination: '/b', type: 303 }] }, /redirects\[0\]\.type must be one of 301, 302, 307, 308, got number 303/],
    [{ redirects: [{ source: 'a', destination: '/b' }] }, /redirects\[0\]\.source "a": must start with "\/"/],
    [{ redirects: [{ source: '/a/:x', destination: '/b/:y' }] }, /redirects\[0\]\.destination uses ":y"/],
    [{ redirects: [{ source: '/a', destination: 'javascript:alert(1)' }] }, /redirects\[0\]\.destination .* must start with "\/" or http/],
    [{ rewrites: [{ source: '/a', destination: 'https://x.example/' }] }, /rewrites\[0\]\.destination .* must start with "\/"$/],
    [{ headers: [{ source: '/**', headers: { 'Bad Name': 'v' } }] }, /headers\[0\]\.headers "Bad Name" is not a valid header name/],
    [{ headers: [{ source: '/**', headers: { 'X-A': 'line\r\nSet-Cookie: x=1' } }] }, /headers\[0\]\.headers\.X-A must be printable text/],
    [{ headers: [{ source: '/**' }] }, /headers\[0\]\.headers is missing/],
    [{ cors: { origin: 5 } }, /cors\.origin must be a string/],
    [{ trailingSlash: 1 }, /trailingSlash must be true or false/],
  ];
  for (const [value, message] of bad) {
    test(`refuses ${JSON.stringify(value)}`, () => {
      assert.throws(() => checkSiteConfig(value), (err: unknown) => err instanceof SiteConfigError && message.test((err as Error).message));
    });
  }

  test('accepts serve.json-style header lists and fills defaults', () => {
    const r = checkSiteConfig({ headers: [{ source: '/**', headers: [{ key: 'X-A', value: '1' }] }], redirects: [{ source: '/a', destination: '/b' }], cors: true });
    assert.deepEqual(r.headers[0]!.headers, { 'X-A': '1' });
    assert.equal(r.redirects[0]!.status, 301);
    assert.deepEqual(r.cors, { origin: '*', methods: ['GET', 'HEAD', 'OPTIONS'], maxAge: 86400 });
  });

  test('no rules: the handler is returned as it is (no cost for unconfigured sites)', () => {
    const h: Handler = () => ({ body: 'x' });
    assert.equal(applySiteRules(h, checkSiteConfig({ cleanUrls: true })), h);
  });

  test('a frozen response gets one merged frozen copy, reused', async () => {
    const res = Object.freeze({ status: 200, headers: Object.freeze({ 'Content-Type': 'text/plain' }), body: 'x' });
    const h = applySiteRules(() => res, checkSiteConfig({ headers: [{ source: '/**', headers: { 'X-A': '1' } }] }));
    const a = await h(fakeReq('GET', '/p'));
    const b = await h(fakeReq('GET', '/p'));
    assert.equal(a, b);
    assert.ok(Object.isFrozen(a));
    assert.equal(header(a, 'x-a'), '1');
  });
});

describe('sluice DIR with sluice.json, over real sockets', { timeout: 60_000 }, () => {
  const t = makeTree({
    'index.html': '<h1>home</h1>',
    'about.html': '<h1>about</h1>',
    'docs/index.html': 'docs',
    'docs/guide.html': 'guide',
    'assets/app.js': 'js',
    'shop/index.html': 'shop shell',
    'sluice.json': JSON.stringify({
      cleanUrls: true,
      headers: [
        { source: '/assets/**', headers: { 'Cache-Control': 'public, max-age=31536000, immutable' } },
        { source: '/**', headers: { 'X-Frame-Options': 'DENY', 'Content-Security-Policy': "default-src 'self'" } },
      ],
      redirects: [
        { source: '/old/:slug', destination: '/docs/:slug', type: 308 },
        { source: '/moved/**', destination: 'https://example.com/:splat', type: 302 },
        { source: '/go/**', destination: '/:splat' },
      ],
      rewrites: [{ source: '/shop/**', destination: '/shop/index.html' }],
    }),
  });
  const servers: Running[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    t.cleanup();
  });
  const start = async (flags: string[] = []) => {
    const s = await startCli([t.root, '--workers', '1', ...flags], { timeoutMs: 15_000 });
    servers.push(s);
    return s;
  };
  const get = (s: Running, p: string, init: RequestInit = {}) => fetch(`${s.url}${p}`, { redirect: 'manual', ...init, signal: AbortSignal.timeout(5000) });

  test('headers per path pattern, later rules adding to earlier ones, replacing the handler\'s', T, async () => {
    const s = await start();
    const js = await get(s, '/assets/app.js');
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(js.headers.get('x-frame-options'), 'DENY');
    const home = await get(s, '/');
    assert.equal(home.headers.get('cache-control'), 'public, max-age=0, must-revalidate');
    assert.equal(home.headers.get('content-security-policy'), "default-src 'self'");
    const etag = home.headers.get('etag')!;
    const nm = await get(s, '/', { headers: { 'If-None-Match': etag } });
    assert.equal(nm.status, 304);
    assert.equal(nm.headers.get('x-frame-options'), 'DENY', 'a 304 carries the rule headers too');
  });

  test('redirects with captures, the query kept; status as configured; no open redirect', T, async () => {
    const s = await start();
    const a = await get(s, '/old/guide?x=1');
    assert.equal(a.status, 308);
    assert.equal(a.headers.get('location'), '/docs/guide?x=1');
    const b = await get(s, '/moved/a/b');
    assert.equal(b.status, 302);
    assert.equal(b.headers.get('location'), 'https://example.com/a/b');
    const c = await get(s, '/go//evil.example/x');
    assert.equal(c.status, 301);
    assert.equal(c.headers.get('location'), '/evil.example/x');
    const followed = await fetch(`${s.url}/old/guide`, { signal: AbortSignal.timeout(5000) });
    assert.equal(await followed.text(), 'guide', '/old/guide → /docs/guide → (clean URL) guide.html');
  });

  test('rewrites serve another path without a redirect (even with clean URLs on)', T, async () => {
    const s = await start();
    for (const p of ['/shop/cart', '/shop/items/42']) {
      const r = await get(s, p);
      assert.equal(r.status, 200, p);
      assert.equal(await r.text(), 'shop shell', p);
    }
  });

  test('clean URLs: /about serves about.html, /about.html → 301 /about, /docs/index.html → /docs/', T, async () => {
    const s = await start();
    const a = await get(s, '/about');
    assert.equal(a.status, 200);
    assert.equal(await a.text(), '<h1>about</h1>');
    const b = await get(s, '/about.html?q');
    assert.equal(b.status, 301);
    assert.equal(b.headers.get('location'), '/about?q');
    const c = await get(s, '/docs/index.html');
    assert.equal(c.status, 301);
    assert.equal(c.headers.get('location'), '/docs/');
    assert.equal((await get(s, '/docs/guide')).status, 200);
    assert.equal((await get(s, '/about/')).status, 301, 'clean URL with a slash → without');
    assert.equal((await get(s, '/sluice.json')).status, 404, 'the config file is not served');
    assert.equal((await get(s, '/SLUICE.json')).status, 404, 'in any case (case-insensitive file systems)');
  });

  test('--cors: Access-Control-Allow-Origin everywhere, a preflight answered 204 with what is allowed', T, async () => {
    const s = await start(['--cors']);
    const r = await get(s, '/about', { headers: { Origin: 'https://app.example' } });
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    const pre = await get(s, '/assets/app.js', {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-requested-with, range' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), '*');
    assert.equal(pre.headers.get('access-control-allow-methods'), 'GET, HEAD, OPTIONS');
    assert.equal(pre.headers.get('access-control-allow-headers'), 'x-requested-with, range');
    assert.equal(pre.headers.get('access-control-max-age'), '86400');
    const plain = await get(s, '/about', { method: 'OPTIONS' });
    assert.equal(plain.status, 200, 'OPTIONS without preflight headers is a plain OPTIONS');
    assert.equal(plain.headers.get('allow'), 'GET, HEAD, OPTIONS');
  });

  test('--header (repeatable) and --clean-urls without a config file', T, async () => {
    const u = makeTree({ 'about.html': 'about', 'x.txt': 'x' });
    try {
      const s = await startCli([u.root, '--workers', '1', '--header', 'X-One: 1', '--header', 'Cache-Control: no-store', '--clean-urls'], { timeoutMs: 15_000 });
      servers.push(s);
      const r = await get(s, '/x.txt');
      assert.equal(r.headers.get('x-one'), '1');
      assert.equal(r.headers.get('cache-control'), 'no-store');
      assert.equal(await (await get(s, '/about')).text(), 'about');
    } finally {
      u.cleanup();
    }
  });

  test('an invalid config file: a message naming the file and field, exit code 2', T, async () => {
    const bad = path.join(t.base, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ redirects: [{ source: '/a', destination: '/b', type: 303 }] }));
    const r = await runCli([t.root, '--config', bad, '--port', '0']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.json: redirects\[0\]\.type must be one of 301, 302, 307, 308/);
    fs.writeFileSync(bad, '{ "cleanUrls": true, }');
    const j = await runCli([t.root, '--config', bad, '--port', '0']);
    assert.equal(j.code, 2);
    assert.match(j.stderr, /bad\.json: not valid JSON/);
    const h = await runCli([t.root, '--header', 'no colon', '--port', '0']);
    assert.equal(h.code, 2);
    assert.match(h.stderr, /--header must look like "Name: value"/);
  });
});
