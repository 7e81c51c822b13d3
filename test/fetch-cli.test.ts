// `sluice app.mjs`: the CLI imports a module and serves its default export, with everything the CLI
// offers (workers, rolling restart, shutdown, limits, --static). Real processes, each with a deadline.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot, runCli, startCli } from './helpers/cli.js';
import { rawRequest } from './helpers/net.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-fetch-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function appFile(name: string, source: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, source);
  return file;
}

const VERSIONED = (v: number) => `
let calls = 0;
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/calls') return new Response(String(calls));
    calls++;
    if (url.pathname === '/slow') await new Promise((r) => setTimeout(r, 600));
    if (request.method === 'POST') return new Response('read ' + (await request.text()).length);
    return new Response('v${v} ' + process.pid);
  },
};
`;

async function get(base: string, p: string): Promise<{ status: number; body: string }> {
  const res = await fetch(base + p, { signal: AbortSignal.timeout(5000), headers: { connection: 'close' } });
  return { status: res.status, body: await res.text() };
}

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test('a Hono app file is served as it is', { timeout: 20_000 }, async () => {
  const app = await startCli([path.join(repoRoot, 'examples', 'hono-app.mjs'), '--workers', '1']);
  try {
    assert.equal((await get(app.url, '/')).body, 'Hello from Hono on sluice\n');
    assert.deepEqual(JSON.parse((await get(app.url, '/hello/ada?lang=fr')).body), { hello: 'ada', lang: 'fr' });
  } finally {
    assert.equal(await app.stop(), 0);
  }
});

test('--workers 2: every worker imports the app; SIGHUP makes new workers load the changed file', { timeout: 40_000 }, async () => {
  const file = appFile('versioned.mjs', VERSIONED(1));
  const app = await startCli([file, '--workers', '2'], { timeoutMs: 15_000 });
  try {
    const pids = new Set<string>();
    await until(async () => {
      const r = await get(app.url, '/');
      assert.match(r.body, /^v1 \d+$/);
      pids.add(r.body.split(' ')[1]!);
      return pids.size === 2;
    }, 10_000, 'both workers to answer');
    writeFileSync(file, VERSIONED(2));
    app.proc.kill('SIGHUP');
    await until(() => /rolling restart done/.test(app.output()), 25_000, 'the rolling restart');
    const after = await get(app.url, '/');
    assert.match(after.body, /^v2 \d+$/);
    assert.ok(!pids.has(after.body.split(' ')[1]!), 'answered by a new worker');
  } finally {
    assert.equal(await app.stop(10_000), 0);
  }
});

test('limits apply: a body over --max-body-size is 413 and the app is not called', { timeout: 20_000 }, async () => {
  const app = await startCli([appFile('limits.mjs', VERSIONED(1)), '--workers', '1', '--max-body-size', '100']);
  try {
    const big = await rawRequest(app.port, 'POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n', { ms: 3000 });
    assert.match(big, /^HTTP\/1\.1 413 /);
    assert.equal((await get(app.url, '/calls')).body, '0');
    const small = await fetch(app.url + '/x', { method: 'POST', body: 'x'.repeat(50), signal: AbortSignal.timeout(5000) });
    assert.equal(await small.text(), 'read 50');
  } finally {
    assert.equal(await app.stop(), 0);
  }
});

test('graceful shutdown: an in-flight request finishes, exit 0', { timeout: 20_000 }, async () => {
  const app = await startCli([appFile('shutdown.mjs', VERSIONED(1)), '--workers', '1']);
  const inFlight = get(app.url, '/slow');
  await sleep(200);
  assert.equal(await app.stop(10_000), 0);
  const r = await inFlight;
  assert.equal(r.status, 200);
  assert.match(r.body, /^v1 /);
});

test('--static DIR: files win, the app gets the rest; a named "handler" export is a sluice handler', { timeout: 20_000 }, async () => {
  const pub = path.join(dir, 'public');
  mkdirSync(pub, { recursive: true });
  writeFileSync(path.join(pub, 'file.txt'), 'a static file\n');
  const file = appFile('sluice-handler.mjs', `
export function handler(req) {
  return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'sluice handler saw ' + req.path };
}
`);
  const app = await startCli([file, '--static', pub, '--workers', '1']);
  try {
    assert.equal((await get(app.url, '/file.txt')).body, 'a static file\n');
    assert.equal((await get(app.url, '/other')).body, 'sluice handler saw /other');
  } finally {
    assert.equal(await app.stop(), 0);
  }
});

test('an app that fails to import, or exports nothing usable: a clear message, exit 2', { timeout: 30_000 }, async () => {
  const broken = appFile('broken.mjs', 'export default {\n  fetch( {\n');
  for (const workers of ['1', '2']) {
    const r = await runCli([broken, '--workers', workers, '--port', '0'], 15_000);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /sluice: cannot import .*broken\.mjs/);
  }
  const none = await runCli([appFile('none.mjs', 'export const x = 1;\n'), '--workers', '1', '--port', '0']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /none\.mjs has no default export: export default a fetch handler/);
  const wrong = await runCli([appFile('wrong.mjs', 'export default 42;\n'), '--workers', '1', '--port', '0']);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /a default export of type number/);
  const missing = await runCli([path.join(dir, 'missing.mjs')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /app file not found/);
  const noApp = await runCli(['--static', dir]);
  assert.equal(noApp.code, 2);
  assert.match(noApp.stderr, /--static goes with an app file/);
});
