// The pages sluice shows people — the directory listing, the demo page, the demo's 404 — in a real
// headless Chromium: no console errors, the elements that matter are there, the layout fits a
// phone, dark mode applies. With SLUICE_SCREENSHOTS=1 the screenshots in docs/screenshots/ are
// rewritten (otherwise they go to a temporary folder, which is removed).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, startCli, type Running } from './helpers/cli.js';
import { visit } from './helpers/browser.js';
import { makeTree } from './fixtures/static/harness.js';

const T = { timeout: 60_000 };
const shotsDir = process.env.SLUICE_SCREENSHOTS === '1' ? path.join(repoRoot, 'docs', 'screenshots') : fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-shots-'));
after(() => { if (process.env.SLUICE_SCREENSHOTS !== '1') fs.rmSync(shotsDir, { recursive: true, force: true }); });
fs.mkdirSync(shotsDir, { recursive: true });

describe('the listing in Chromium', () => {
  const t = makeTree({
    'assets/logo.svg': '<svg/>',
    'docs/guide.md': '# guide',
    'releases/': '',
    'README.md': '# project\n'.repeat(40),
    'app.js': 'console.log(1)\n'.repeat(300),
    'style.css': 'body{}\n'.repeat(30),
    'data.json': JSON.stringify({ a: Array.from({ length: 5000 }, (_, i) => i) }),
    'photo <1>.jpg': Buffer.alloc(2_345_678),
  });
  const when = new Date('2026-11-28T14:30:00Z');
  for (const f of fs.readdirSync(t.root)) fs.utimesSync(path.join(t.root, f), when, when);
  let srv: Running;
  before(async () => { srv = await startCli([t.root, '--workers', '1', '--list']); });
  after(async () => { await srv.stop(); t.cleanup(); });

  test('a table with folders first, sizes, dates and sort links; no console errors', T, async () => {
    await visit(`${srv.url}/`, async ({ page, errors, status }) => {
      assert.equal(status, 200);
      assert.equal(await page.title(), 'Index of /');
      const names = await page.$$eval('tbody td.name a', (as) => as.map((a) => a.textContent));
      assert.deepEqual(names, ['assets/', 'docs/', 'releases/', 'app.js', 'data.json', 'photo <1>.jpg', 'README.md', 'style.css']);
      assert.equal(await page.$$eval('thead th a', (as) => as.length), 3);
      assert.equal(await page.textContent('tr:has(a[href="/photo%20%3C1%3E.jpg"]) td.size'), '2.3 MB');
      assert.equal(await page.textContent('tr:has(a[href="/app.js"]) td.mtime'), '2026-11-28 14:30');
      const icon = await page.$eval('tbody tr:nth-child(1) .icon', (el) => getComputedStyle(el).backgroundImage);
      assert.match(icon, /^url\("data:image\/svg\+xml/, 'icons are inline');
      assert.deepEqual(errors, []);
    }, { screenshot: path.join(shotsDir, 'listing.png') });
  });

  test('sorting by a column and following the breadcrumbs', T, async () => {
    await visit(`${srv.url}/`, async ({ page, errors }) => {
      await page.click('thead th.size a');
      await page.waitForURL(/sort=size/);
      const sorted = await page.$$eval('tbody td.name a', (as) => as.map((a) => a.textContent));
      assert.equal(sorted[3], 'style.css', 'smallest file first after the folders');
      await page.click('a[href="/docs/"]');
      await page.waitForURL(/\/docs\/$/);
      assert.equal(await page.$$eval('h1 nav a', (as) => as.map((a) => a.textContent).join('')), '/docs/');
      await page.click('h1 nav a[href="/"]');
      await page.waitForURL(/\/$/);
      assert.deepEqual(errors, []);
    });
  });

  test('on a phone: no horizontal scrolling; dark mode changes the colours', T, async () => {
    await visit(`${srv.url}/`, async ({ page, errors }) => {
      const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      assert.ok(scroll <= width, `page is ${scroll}px wide in a ${width}px viewport`);
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(bg, 'rgb(13, 17, 23)');
      assert.deepEqual(errors, []);
    }, { viewport: { width: 375, height: 700 }, colorScheme: 'dark', screenshot: path.join(shotsDir, 'listing-phone-dark.png') });
  });
});

describe('the demo site in Chromium', () => {
  let srv: Running;
  before(async () => { srv = await startCli(['--workers', '1']); });
  after(async () => { await srv.stop(); });

  test('the demo page says Hello! and sluice', T, async () => {
    await visit(`${srv.url}/`, async ({ page, errors, status }) => {
      assert.equal(status, 200);
      assert.equal(await page.textContent('h1'), 'Hello!');
      assert.match(await page.title(), /sluice/);
      assert.match((await page.textContent('body'))!, /sluice/);
      assert.doesNotMatch((await page.textContent('body'))!, /Rust/);
      assert.deepEqual(errors, []);
    }, { viewport: { width: 800, height: 450 }, screenshot: path.join(shotsDir, 'demo.png') });
  });

  test('the 404 page: Oops!, the book\'s sentence, a title that says 404', T, async () => {
    await visit(`${srv.url}/no/such/page`, async ({ page, errors, status }) => {
      assert.equal(status, 404);
      assert.equal(await page.textContent('h1'), 'Oops!');
      assert.match((await page.textContent('body'))!, /Sorry, I don't know what you're asking for\./);
      assert.match(await page.title(), /^404 Not Found/);
      // The browser reports the 404 of the document itself as a console error; nothing else may fail.
      assert.deepEqual(errors.filter((e) => !/404/.test(e)), []);
    }, { viewport: { width: 800, height: 450 }, screenshot: path.join(shotsDir, '404.png') });
  });
});
