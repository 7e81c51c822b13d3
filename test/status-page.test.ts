// The status page: its files over HTTP (no third-party origin, a strict CSP), its JSON, and the
// page itself in a real Chromium — no console errors, charts drawn, values moving under load,
// readable on a phone, dark when the system is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { adminUrl, repoRoot, startCli } from './helpers/cli.js';
import { launchChromium } from './helpers/browser.js';


test('/status, its script and uPlot come from the admin port itself; /status.json has the numbers', { timeout: 30_000 }, async () => {
  const srv = await startCli(['--workers', '2', '--admin', '0']);
  try {
    const admin = await adminUrl(srv.output);
    const page = await fetch(`${admin}/status`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /^text\/html/);
    assert.match(page.headers.get('content-security-policy')!, /default-src 'none'; script-src 'self'/);
    const html = await page.text();
    assert.doesNotMatch(html, /https?:\/\//, 'nothing from another origin');
    for (const src of [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((s) => !s.startsWith("data:"))) {
      const res = await fetch(new URL(src, `${admin}/status`));
      assert.equal(res.status, 200, src);
      assert.ok((await res.arrayBuffer()).byteLength > 100, `${src} has content`);
    }
    for (let i = 0; i < 20; i++) await (await fetch(srv.url)).arrayBuffer();
    let s: { version: string; requests: number; workers: number; history: unknown[]; codes: Array<[number, number]> } | null = null;
    for (let i = 0; i < 50; i++) {
      s = await (await fetch(`${admin}/status.json`)).json() as typeof s;
      if (s!.requests === 20 && s!.history.length > 0) break;
      await delay(100);
    }
    assert.equal(s!.requests, 20);
    assert.deepEqual(s!.codes, [[200, 20]]);
    assert.equal(s!.workers, 2);
    assert.match(s!.version, /^\d+\.\d+\.\d+/);
  } finally {
    await srv.stop();
  }
});

test('in Chromium: the page loads without console errors, its charts draw and follow a load', { timeout: 90_000 }, async () => {
  const srv = await startCli(['--workers', '2', '--admin', '0']);
  const browser = await launchChromium();
  let load: Promise<unknown> | null = null;
  try {
    const admin = await adminUrl(srv.output);
    const { page, errors } = await browser.open(`${admin}/status`, { viewport: { width: 1280, height: 1000 } });
    await page.waitForSelector('#c-rps canvas');
    // The tiles' text, and how many canvas pixels are painted (uPlot draws series and grid there).
    const read = () => page.evaluate(() => {
      const painted = [...document.querySelectorAll('canvas')].map((c) => {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
        return n;
      });
      const text = (id: string) => document.getElementById(id)!.textContent!;
      return { painted, rps: text('t-rps'), total: text('t-total'), p99: text('t-p99'), charts: document.querySelectorAll('canvas').length };
    });
    const idle = await read();
    assert.ok(idle.charts >= 4, `${idle.charts} charts`);
    load = promisify(execFile)('wrk', ['-t1', '-c20', '-d16s', `${srv.url}/`], { timeout: 30_000 });
    let busy = idle;
    const end = Date.now() + 15_000;
    while (Date.now() < end) {
      await delay(500);
      busy = await read();
      if (parseFloat(busy.rps) > 100 && busy.total !== idle.total && busy.p99 !== '–') break;
    }
    assert.ok(parseFloat(busy.rps) > 100 || busy.rps.endsWith('k'), `requests/s under load: ${busy.rps}`);
    assert.notEqual(busy.total, idle.total, 'the request total moves');
    assert.ok(busy.painted.every((n) => n > 500), `every chart painted: ${busy.painted}`);
    await delay(2500);
    const later = await read();
    assert.notDeepEqual(later.painted, busy.painted, 'the charts are redrawn as new seconds come in');
    // SLUICE_SCREENSHOTS=1 refreshes docs/screenshots/status.png (the page under load).
    if (process.env.SLUICE_SCREENSHOTS === '1') {
      // A few more seconds of history, with some 404s in the mix, for the picture.
      await promisify(execFile)('wrk', ['-t1', '-c2', '-d6s', `${srv.url}/nope`], { timeout: 30_000 });
      mkdirSync(path.join(repoRoot, 'docs', 'screenshots'), { recursive: true });
      await page.screenshot({ path: path.join(repoRoot, 'docs', 'screenshots', 'status.png'), fullPage: true });
    }
    assert.deepEqual(errors, [], 'no console errors');
  } finally {
    await load?.catch(() => {});
    await browser.close();
    await srv.stop();
  }
});

test('in Chromium: readable on a phone (no sideways scrolling) and dark in dark mode', { timeout: 60_000 }, async () => {
  const srv = await startCli(['--workers', '1', '--admin', '0']);
  const browser = await launchChromium();
  try {
    const admin = await adminUrl(srv.output);
    const phone = await browser.open(`${admin}/status`, { viewport: { width: 375, height: 800 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, colorScheme: 'dark' });
    await phone.page.waitForSelector('#c-rps canvas');
    await phone.page.waitForFunction(() => document.getElementById('t-total')!.textContent !== '–');
    const m = await phone.page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth, width: window.innerWidth,
      chart: document.querySelector('#c-rps canvas')!.getBoundingClientRect().width,
      bg: getComputedStyle(document.body).backgroundColor,
    }));
    assert.ok(m.scroll <= m.width, `page ${m.scroll}px wide in a ${m.width}px viewport`);
    assert.ok(m.chart > 250 && m.chart <= m.width, `chart ${m.chart}px wide`);
    const [r, g, b] = m.bg.match(/\d+/g)!.map(Number);
    assert.ok(r! + g! + b! < 150, `dark background: ${m.bg}`);
    assert.deepEqual(phone.errors, []);
    const light = await browser.open(`${admin}/status`, { colorScheme: 'light' });
    const lbg = await light.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.ok(lbg.match(/\d+/g)!.map(Number).reduce((a, c) => a + c, 0) > 600, `light background: ${lbg}`);
  } finally {
    await browser.close();
    await srv.stop();
  }
});
