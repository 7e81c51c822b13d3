// The benchmark harness in --smoke mode: one 1 s scenario (GET / keep-alive) against sluice and the
// node:http baseline, with whichever load generator is installed (wrk, else autocannon), results in a
// temp dir. Checks that the harness runs end to end and measures both servers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { distDir } from './helpers/cli.js';

interface SmokeServer { server: string; status: string; notes: string[]; summary: Record<string, { median: number } | undefined> }
interface Smoke {
  mode: string;
  scenarios: { id: string; servers: SmokeServer[] }[];
}

test('npm run bench -- --smoke measures sluice and node:http', { timeout: 30_000 }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-smoke-test-'));
  // Its own process group: if the harness hangs, one kill takes it and every server it started.
  const proc = spawn(process.execPath, [path.join(distDir, 'bench', 'run.js'), '--smoke', '--out', out], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killGroup = (sig: NodeJS.Signals) => { try { process.kill(-proc.pid!, sig); } catch { /* gone */ } };
  const onExit = () => killGroup('SIGKILL');
  process.on('exit', onExit);
  let output = '';
  proc.stdout.on('data', (d: Buffer) => { output += d.toString(); });
  proc.stderr.on('data', (d: Buffer) => { output += d.toString(); });
  const code = await new Promise<number | null>((resolve) => {
    // SIGTERM lets the harness stop its servers; SIGKILL to the whole group if it does not.
    const soft = setTimeout(() => killGroup('SIGTERM'), 25_000);
    const hard = setTimeout(() => killGroup('SIGKILL'), 27_000);
    proc.on('exit', (c) => { clearTimeout(soft); clearTimeout(hard); resolve(c); });
  });
  try {
    assert.equal(code, 0, `harness failed:\n${output}`);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'latest.json'), 'utf8')) as Smoke;
    assert.equal(results.mode, 'smoke');
    const sc = results.scenarios.find((s) => s.id === '1');
    assert.ok(sc, 'scenario 1 in the results');
    for (const name of ['sluice', 'node:http']) {
      const r: SmokeServer | undefined = sc.servers.find((s) => s.server === name);
      assert.ok(r, `${name} in the results`);
      assert.equal(r.status, 'ok', `${name}: ${r.notes.join('; ')}\n${output}`);
      assert.ok((r.summary.rps?.median ?? 0) > 0, `${name} req/s > 0`);
    }
    // Nothing of the run left behind in the group.
    killGroup('SIGKILL');
  } finally {
    process.off('exit', onExit);
    fs.rmSync(out, { recursive: true, force: true });
  }
});
