// Directory listings and folder paths: the HTML table (sizes, dates, folders first, breadcrumbs,
// sorting by query, escaping), JSON for scripts, symlinks out of the root left out, the 404 hint
// when listing is off, serving under a prefix, and the trailing-slash policies. Direct calls and
// the real CLI over sockets.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { serveStatic } from '../src/app/static/index.js';
import { Router } from '../src/app/router.js';
import { serve } from '../src/server/server.js';
import type { Handler, SluiceResponse } from '../src/http/types.js';
import { startCli } from './helpers/cli.js';
import { CANARY, fakeReq, header, makeTree, readBody } from './fixtures/static/harness.js';

async function call(h: Handler, method: string, target: string, headers: Record<string, string> = {}): Promise<SluiceResponse & { text: string }> {
  const res = await h(fakeReq(method, target, headers));
  return { ...res, text: (await readBody(res.body)).toString() };
}

function tree(files: Record<string, string | Buffer>) {
  const t = makeTree(files);
  after(() => t.cleanup());
  return t;
}

describe('listing', () => {
  const t = tree({ 'b.txt': 'bb', 'a.txt': 'a'.repeat(1500), 'zdir/x': 'x', 'adir/y': 'y', '<i>&.txt': 'i', '.secret': 's' });
  fs.symlinkSync('../canary.txt', path.join(t.root, 'out-link.txt'));
  fs.symlinkSync('../outside', path.join(t.root, 'out-dir'));
  fs.symlinkSync('b.txt', path.join(t.root, 'in-link.txt'));
  fs.symlinkSync('nowhere', path.join(t.root, 'dangling'));
  const old = new Date('2020-01-02T03:04:05Z');
  fs.utimesSync(path.join(t.root, 'b.txt'), old, old);
  const h = serveStatic(t.root, { list: true });

  test('HTML: a table of name, size and date; folders first; escaped; no dotfiles, no links out of the root', async () => {
    const r = await call(h, 'GET', '/');
    assert.equal(r.status, 200);
    assert.equal(header(r, 'content-type'), 'text/html; charset=utf-8');
    const html = r.text;
    assert.match(html, /<table>/);
    const names = [...html.matchAll(/<td class="name">.*?<a href="[^"]*">([^<]*)<\/a>/g)].map((m) => m[1]);
    assert.deepEqual(names, ['adir/', 'zdir/', '&#60;i&#62;&#38;.txt', 'a.txt', 'b.txt', 'in-link.txt']);
    assert.ok(!html.includes('out-link') && !html.includes('out-dir') && !html.includes('dangling') && !html.includes('.secret'));
    assert.match(html, /title="1500 bytes">1\.5 kB</);
    assert.match(html, /<time datetime="2020-01-02T03:04:05\.000Z">2020-01-02 03:04<\/time>/);
    assert.ok(!/<script|src=|<link(?! rel="icon" href="data:,")/.test(html), 'no scripts, no external assets');
    assert.match(html, /prefers-color-scheme:dark/);
    assert.match(html, /name="viewport"/);
  });

  test('sortable by the column links (?sort=size&order=desc), folders still first', async () => {
    const r = await call(h, 'GET', '/?sort=size&order=desc');
    const names = [...r.text.matchAll(/<td class="name">.*?<a href="[^"]*">([^<]*)<\/a>/g)].map((m) => m[1]);
    assert.deepEqual(names.slice(0, 2), ['zdir/', 'adir/']);
    assert.equal(names[2], 'a.txt');
    assert.match(r.text, /aria-sort="descending"/);
    assert.match(r.text, /href="\?sort=size&amp;order=asc"/);
  });

  test('breadcrumbs link every ancestor', async () => {
    const r = await call(serveStatic(t.root, { list: true, prefix: '/files' }), 'GET', '/files/adir/');
    assert.match(r.text, /<a href="\/files\/">\/<\/a><a href="\/files\/adir\/">adir\/<\/a>/);
    assert.match(r.text, /href="\/files\/adir\/y"/);
  });

  test('JSON with ?format=json or Accept: application/json', async () => {
    for (const [target, hd] of [['/?format=json', {}], ['/', { accept: 'application/json' }]] as const) {
      const r = await call(h, 'GET', target, hd);
      assert.equal(header(r, 'content-type'), 'application/json; charset=utf-8');
      const j = JSON.parse(r.text) as { path: string; entries: { name: string; type: string; size: number; mtime: string; url: string }[] };
      assert.equal(j.path, '/');
      assert.deepEqual(j.entries.map((e) => e.name), ['adir', 'zdir', '<i>&.txt', 'a.txt', 'b.txt', 'in-link.txt']);
      const b = j.entries.find((e) => e.name === 'b.txt')!;
      assert.deepEqual(b, { name: 'b.txt', type: 'file', size: 2, mtime: '2020-01-02T03:04:05.000Z', url: '/b.txt' });
      assert.equal(j.entries[2]!.url, '/%3Ci%3E%26.txt');
    }
    assert.equal(header(await call(h, 'GET', '/', { accept: 'text/html,application/json' }), 'content-type'), 'text/html; charset=utf-8');
  });

  test('a folder without an index and without listing: 404 that says listing exists, and lists nothing', async () => {
    const r = await call(serveStatic(t.root), 'GET', '/adir/');
    assert.equal(r.status, 404);
    assert.match(r.text, /directory listing is off/);
    assert.match(r.text, /--list/);
    assert.ok(!r.text.includes('<') && !r.text.includes('y/'), 'plain text, no listing of the folder');
    const missing = await call(serveStatic(t.root), 'GET', '/nothing/');
    assert.equal(missing.text, 'Not Found\n', 'a missing path says nothing more');
  });
});

describe('prefix', () => {
  const t = tree({ 'index.html': 'home', 'a.txt': 'a', 'sub/index.html': 'sub' });

  test('serveStatic(root, { prefix }) mounted on a router path, over a real socket', async () => {
    const app = new Router().get('/', () => ({ body: 'app' })).get('/files/*', serveStatic(t.root, { prefix: '/files' }));
    const srv = await serve(app.handle, { port: 0 });
    try {
      const get = (p: string) => fetch(`http://127.0.0.1:${srv.port}${p}`, { redirect: 'manual', signal: AbortSignal.timeout(5000) });
      assert.equal(await (await get('/files/a.txt')).text(), 'a');
      assert.equal(await (await get('/files/')).text(), 'home');
      const sub = await get('/files/sub?x=1');
      assert.equal(sub.status, 301);
      assert.equal(sub.headers.get('location'), '/files/sub/?x=1');
      assert.equal(await (await get('/')).text(), 'app');
      const r = await get('/files/../canary.txt');
      assert.ok(!(await r.text()).includes(CANARY));
    } finally {
      await srv.close(1000);
    }
  });

  test('paths outside the prefix are 404; the bare prefix redirects to prefix/', async () => {
    const h = serveStatic(t.root, { prefix: '/files/' });
    assert.equal((await call(h, 'GET', '/a.txt')).status, 404);
    assert.equal((await call(h, 'GET', '/filesa.txt')).status, 404);
    const r = await call(h, 'GET', '/files');
    assert.equal(r.status, 301);
    assert.equal(header(r, 'location'), '/files/');
  });
});

describe('trailing-slash policy', () => {
  const t = tree({ 'dir/index.html': 'dir', 'about.html': 'about', 'a.txt': 'a' });

  test('true: clean URLs get a slash (/about → /about/); files with an extension do not', async () => {
    const h = serveStatic(t.root, { cleanUrls: true, trailingSlash: true });
    const r = await call(h, 'GET', '/about');
    assert.equal(r.status, 301);
    assert.equal(header(r, 'location'), '/about/');
    assert.equal((await call(h, 'GET', '/about/')).text, 'about');
    assert.equal(header(await call(h, 'GET', '/about.html'), 'location'), '/about/');
    assert.equal((await call(h, 'GET', '/a.txt')).text, 'a');
  });

  test('false: no slashes (/dir/ → /dir, /dir serves the index)', async () => {
    const h = serveStatic(t.root, { trailingSlash: false });
    const r = await call(h, 'GET', '/dir/');
    assert.equal(r.status, 301);
    assert.equal(header(r, 'location'), '/dir');
    assert.equal((await call(h, 'GET', '/dir')).text, 'dir');
  });
});

describe('sluice DIR --list over a real socket', () => {
  test('HTML and JSON', { timeout: 20_000 }, async () => {
    const t = tree({ 'f.txt': 'f', 'd/g.txt': 'g' });
    const s = await startCli([t.root, '--workers', '1', '--list']);
    try {
      const html = await fetch(`${s.url}/`, { signal: AbortSignal.timeout(5000) });
      assert.match(await html.text(), /<a href="\/d\/">d\/<\/a>/);
      const json = await fetch(`${s.url}/d/`, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(5000) });
      assert.equal(json.headers.get('vary'), 'Accept');
      assert.deepEqual((await json.json() as { entries: { name: string }[] }).entries.map((e) => e.name), ['g.txt']);
    } finally {
      await s.stop();
    }
  });
});
