// The README's "Use sluice in your project" section, done exactly as written in a fresh temporary
// folder: its shell commands run in order, its files (the blocks named `tsconfig.json`, `app.ts`)
// are written, `npx tsc` compiles, and `node dist/app.js` serves what the example says.
//
// Offline: the commands run verbatim, but npm talks to a registry served by this test on
// 127.0.0.1 (npm_config_registry, with an empty cache of its own): sluice's tarball is this
// repository packed by `npm pack` (what `npm publish` would upload), every other package is the
// copy installed in this repository's node_modules. Bounded: every command has a deadline, the
// registry and the example's server are closed at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, startScript, type Running } from './helpers/cli.js';

function sh(cmd: string, cwd: string, env: NodeJS.ProcessEnv, ms = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', cmd], { cwd, timeout: ms, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...env } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

interface Pkg { name: string; version: string; dir: string; manifest: Record<string, unknown> }

/** Every package installed under node_modules (nested copies too), by name. */
function installedPackages(root: string): Map<string, Pkg[]> {
  const out = new Map<string, Pkg[]>();
  const visit = (nm: string) => {
    if (!fs.existsSync(nm)) return;
    for (const entry of fs.readdirSync(nm)) {
      if (entry.startsWith('.')) continue;
      const dirs = entry.startsWith('@') ? fs.readdirSync(path.join(nm, entry)).map((e) => path.join(nm, entry, e)) : [path.join(nm, entry)];
      for (const dir of dirs) {
        const pj = path.join(dir, 'package.json');
        if (!fs.existsSync(pj)) continue;
        const manifest = JSON.parse(fs.readFileSync(pj, 'utf8')) as Record<string, unknown>;
        const name = manifest.name as string;
        const list = out.get(name) ?? [];
        if (!list.some((p) => p.version === manifest.version)) list.push({ name, version: manifest.version as string, dir, manifest });
        out.set(name, list);
        visit(path.join(dir, 'node_modules'));
      }
    }
  };
  visit(path.join(root, 'node_modules'));
  return out;
}

/** A read-only npm registry over the given packages (`tarballOf` makes a package's .tgz). */
async function localRegistry(pkgs: Map<string, Pkg[]>, tarballOf: (p: Pkg) => string): Promise<{ url: string; close(): void }> {
  const srv = http.createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    const tgz = /^\/-\/(.+)@([^@/]+)\.tgz$/.exec(url);
    if (tgz) {
      const p = pkgs.get(tgz[1]!)?.find((x) => x.version === tgz[2]);
      if (!p) { res.writeHead(404).end(); return; }
      const body = fs.readFileSync(tarballOf(p));
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length }).end(body);
      return;
    }
    const name = url.slice(1);
    const list = pkgs.get(name);
    if (!list) { res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":"not found"}'); return; }
    const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    const versions: Record<string, unknown> = {};
    for (const p of list) versions[p.version] = { ...p.manifest, dist: { tarball: `${base}/-/${encodeURIComponent(p.name)}@${p.version}.tgz` } };
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ name, versions, 'dist-tags': { latest: list[list.length - 1]!.version } }));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/`, close: () => srv.close() };
}

/** The README section's fenced blocks, in order: language, optional file name, content. */
function readmeBlocks(): { lang: string; file: string | undefined; body: string }[] {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const start = readme.indexOf('### Use sluice in your project');
  const end = readme.indexOf('\n### ', start + 10);
  assert.ok(start >= 0 && end > start, 'README has the section');
  const section = readme.slice(start, end);
  return [...section.matchAll(/```(\w+)(?: ([^\n]+))?\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, file: m[2], body: m[3]! }));
}

test('the README library example builds and runs in a fresh project, as the README says', { timeout: 300_000 }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-readme-'));
  const proj = path.join(tmp, 'my-app');
  fs.mkdirSync(proj);
  let server: Running | null = null;
  let registry: { close(): void } | null = null;
  try {
    const packed = await sh(`npm pack --ignore-scripts --pack-destination ${JSON.stringify(tmp)}`, repoRoot, {});
    assert.equal(packed.code, 0, packed.stderr);
    const pkgs = installedPackages(repoRoot);
    const sluiceTgz = path.join(tmp, packed.stdout.trim().split('\n').pop()!);
    const own = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as Record<string, unknown>;
    pkgs.set('sluice', [{ name: 'sluice', version: own.version as string, dir: repoRoot, manifest: own }]);
    const made = new Map<string, string>();
    const tarballOf = (p: Pkg): string => {
      if (p.name === 'sluice') return sluiceTgz;
      let f = made.get(p.dir);
      if (f === undefined) {
        f = path.join(tmp, `${made.size}.tgz`);
        execFileSync('tar', ['czf', f, '--exclude=./node_modules', '--transform', 's,^\\.,package,', '-C', p.dir, '.']);
        made.set(p.dir, f);
      }
      return f;
    };
    const reg = await localRegistry(pkgs, tarballOf);
    registry = reg;
    const env = {
      npm_config_registry: reg.url, npm_config_cache: path.join(tmp, 'npm-cache'),
      npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false',
    };

    let run: string | undefined;
    const blocks = readmeBlocks();
    assert.ok(blocks.some((b) => b.file === 'app.ts') && blocks.some((b) => b.file === 'tsconfig.json'));
    for (const b of blocks) {
      if (b.file !== undefined) {
        fs.writeFileSync(path.join(proj, b.file), b.body);
        continue;
      }
      if (b.lang !== 'sh') continue;
      for (const line of b.body.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))) {
        if (line.startsWith('node ')) { run = line; continue; }
        const r = await sh(line, proj, env);
        assert.equal(r.code, 0, `${line}\n${r.stdout}\n${r.stderr}`);
        if (line === 'npm install sluice') assert.ok(!/npm warn/i.test(r.stderr), `installing sluice warns:\n${r.stderr}`);
      }
    }
    assert.equal(run, 'node dist/app.js');
    const pkg = JSON.parse(fs.readFileSync(path.join(proj, 'package.json'), 'utf8')) as { type?: string };
    assert.equal(pkg.type, 'module');
    assert.ok(fs.existsSync(path.join(proj, 'dist', 'app.js')), 'npx tsc wrote dist/app.js');

    server = await startScript(path.join(proj, 'dist', 'app.js'), [], { cwd: proj, env: { PORT: '0' }, timeoutMs: 15_000 });
    const url = server.url;
    const get = (p: string, init: RequestInit = {}) => fetch(url + p, { ...init, signal: AbortSignal.timeout(5000) });
    assert.equal(await (await get('/')).text(), 'hello\n');
    assert.equal(await (await get('/users/7')).text(), 'user 7\n');
    const up = await get('/upload', { method: 'POST', body: 'four' });
    assert.equal(up.status, 201);
    assert.equal(await up.text(), 'got 4 bytes\n');
    assert.equal((await get('/upload', { method: 'POST', body: '' })).status, 400);
  } finally {
    server?.signal('SIGKILL');
    registry?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
