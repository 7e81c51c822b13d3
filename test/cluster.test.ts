// --workers N: the primary, its workers, restarts, rolling restarts and shutdown.
// Every test starts its own cluster on a free port and stops it; each has a deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { spawn as spawnProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCli, runCli, cliPath, type Running } from './helpers/cli.js';
import { get, until } from './helpers/traffic.js';
import { startLoad, type Outcome } from './helpers/load.js';

const alive = (pid: number) => {
  try { process.kill(pid, 0); return true; } catch { return false; }
};

/** Asks until `n` distinct worker pids have answered (new connections are dealt round-robin). */
async function workerPids(app: Running, n: number): Promise<Set<number>> {
  const pids = new Set<number>();
  const end = performance.now() + 5000;
  while (pids.size < n && performance.now() < end) {
    const r = await get(app.port, '/work?ms=1', false);
    assert.equal(r.status, 200);
    pids.add(r.pid);
  }
  assert.equal(pids.size, n, `expected ${n} workers to answer, saw ${[...pids].join(', ')}`);
  return pids;
}

/** Linux: pids of processes running the CLI whose NUL-separated command line contains `needle`. */
function cliProcessesWith(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(cliPath) && cmdline.includes(needle)) pids.push(Number(entry));
    } catch { /* gone */ }
  }
  return pids;
}

const describeFailures = (fs: Outcome[]) => fs.map((f) => f.error).join(', ');

// ---- tests ------------------------------------------------------------------------------------

test('--workers must be a whole number >= 1: a CLI error with exit code 2', { timeout: 10_000 }, async () => {
  for (const bad of ['0', 'abc', '-1', '2.5']) {
    const r = await runCli(['--workers', bad, '--port', '0']);
    assert.equal(r.code, 2, `--workers ${bad}: ${r.stderr}`);
    assert.match(r.stderr, /--workers/);
  }
});

test('a port in use fails the start-up: exit code 2, no worker left behind', { timeout: 15_000 }, async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  try {
    const port = (blocker.address() as net.AddressInfo).port;
    const r = await runCli(['--workers', '2', '--port', String(port)]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /EADDRINUSE/);
    assert.match(r.stdout + r.stderr, /during start-up/);
    assert.doesNotMatch(r.stdout, /listening on/);
    if (process.platform === 'linux') {
      await until(() => cliProcessesWith(`--port\0${port}\0`).length === 0, 3000, 'no sluice process left on that port');
    }
  } finally {
    blocker.close();
  }
});

test('requests are served by more than one worker process; one start-up line', { timeout: 15_000 }, async () => {
  const app = await startCli(['--workers', '2']);
  try {
    const pids = new Set<number>();
    const replies = await Promise.all(Array.from({ length: 12 }, () => get(app.port, '/work?ms=5', false)));
    for (const r of replies) {
      assert.equal(r.status, 200);
      assert.match(r.body, new RegExp(`of process ${r.pid}\\b`));
      pids.add(r.pid);
    }
    assert.ok(pids.size >= 2, `served by ${[...pids].join(', ')}`);
    assert.ok(!pids.has(app.proc.pid!), 'the primary serves no requests');
    const lines = app.output().split('\n').filter((l) => l.includes('listening on'));
    assert.equal(lines.length, 1, app.output());
    assert.match(lines[0]!, /^sluice listening on http:\/\/127\.0\.0\.1:\d+\/ \(2 workers(, reusePort)?\)$/);
  } finally {
    assert.equal(await app.stop(), 0);
  }
});

test('a worker killed with SIGKILL under load is replaced and the service recovers', { timeout: 20_000 }, async () => {
  const app = await startCli(['--workers', '2']);
  const traffic = startLoad({ port: app.port, fresh: 2, concurrency: 2, path: '/work?ms=2' });
  try {
    await until(() => traffic.pids().size >= 2, 5000, 'both workers to answer');
    const before = traffic.pids();
    const victim = [...before][0]!;
    process.kill(victim, 'SIGKILL');
    const killedAt = performance.now();
    await until(() => [...traffic.pids()].some((p) => !before.has(p)), 5000, 'a replacement worker to answer');
    const replacedAfter = performance.now() - killedAt;
    await sleep(300);
    await traffic.stop();
    // Only requests caught on the killed worker's own connections may fail, and only right after the kill.
    const late = traffic.failures().filter((f) => f.at - killedAt > 2000);
    assert.deepEqual(late.map((f) => f.error), [], 'no failures later than 2 s after the kill');
    assert.ok(traffic.failures().length <= 10, `failures: ${describeFailures(traffic.failures())}`);
    assert.ok(traffic.outcomes.some((o) => o.ok && o.at > killedAt && before.has(o.pid) && o.pid !== victim), 'the other worker kept answering');
    assert.ok(replacedAfter < 5000, `replacement answered after ${replacedAfter} ms`);
    assert.match(app.output(), new RegExp(`worker ${victim} was killed by SIGKILL; starting a replacement`));
  } finally {
    await traffic.stop();
    assert.equal(await app.stop(), 0);
  }
});

test('a worker that keeps dying is restarted with backoff while the others keep answering', { timeout: 20_000 }, async () => {
  const app = await startCli(['--workers', '2']);
  try {
    const [first, other] = [...(await workerPids(app, 2))];
    process.kill(first!, 'SIGKILL');
    const replacedLine = new RegExp(`worker (\\d+) listening \\(replaces ${first}\\)`);
    await until(() => replacedLine.test(app.output()), 5000, 'the replacement to listen');
    const second = Number(replacedLine.exec(app.output())![1]);
    process.kill(second, 'SIGKILL'); // dies again right after starting: backoff
    await until(() => app.output().includes(`worker ${second} was killed by SIGKILL, the 2nd crash in a row`), 5000, 'the backoff log line');
    assert.match(app.output(), /the 2nd crash in a row of worker slot \d \(each within 10 s of starting\); restarting it in 0\.5 s/);
    // During the backoff the surviving worker answers everything.
    for (let i = 0; i < 4; i++) {
      const r = await get(app.port, '/work?ms=1', false);
      assert.equal(r.status, 200);
      assert.ok(r.pid === other || ![first, second].includes(r.pid), `answered by ${r.pid}`);
    }
    await until(() => app.output().includes(`listening (replaces ${second})`), 5000, 'the delayed restart');
  } finally {
    assert.equal(await app.stop(), 0);
  }
});

test('SIGHUP: rolling restart under load with zero failed requests', { timeout: 25_000 }, async () => {
  const app = await startCli(['--workers', '2']);
  const traffic = startLoad({ port: app.port, fresh: 3, concurrency: 3, path: '/work?ms=2' });
  try {
    await until(() => traffic.pids().size >= 2, 5000, 'both workers to answer');
    const before = traffic.pids();
    for (let round = 1; round <= 2; round++) {
      app.proc.kill('SIGHUP');
      await until(() => (app.output().match(/rolling restart done/g) ?? []).length === round, 15_000, `rolling restart ${round} to finish`);
    }
    const afterRestart = performance.now();
    await sleep(300);
    await traffic.stop();
    assert.deepEqual(describeFailures(traffic.failures()), '', 'no request failed');
    const lastPids = new Set(traffic.outcomes.filter((o) => o.at > afterRestart).map((o) => o.pid));
    assert.ok(lastPids.size >= 1 && [...lastPids].every((p) => !before.has(p)), 'only new workers answer after the restart');
    for (const pid of before) await until(() => !alive(pid), 3000, `old worker ${pid} to exit`);
    assert.ok(traffic.outcomes.length > 100, `only ${traffic.outcomes.length} requests were made`);
  } finally {
    await traffic.stop();
    assert.equal(await app.stop(), 0);
  }
});

test('SIGTERM: in-flight requests finish, the primary exits 0, every worker is gone', { timeout: 15_000 }, async () => {
  const app = await startCli(['--workers', '2', '--threads', '1']);
  const pids = await workerPids(app, 2);
  const inFlight = get(app.port, '/work?ms=600', false, 5000);
  await sleep(150);
  const code = await app.stop(10_000);
  assert.equal(code, 0);
  const r = await inFlight;
  assert.equal(r.status, 200);
  assert.equal(r.connection, 'close');
  assert.match(app.output(), /SIGTERM: draining 2 workers/);
  for (const pid of pids) await until(() => !alive(pid), 2000, `worker ${pid} to be gone`);
});

test("Ctrl-C to the whole process group: workers don't die mid-request, the primary drains them", { timeout: 15_000 }, async () => {
  const proc = spawnProcess(process.execPath, [cliPath, '--workers', '2', '--port', '0', '--threads', '1'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const killGroup = (sig: NodeJS.Signals) => { try { process.kill(-proc.pid!, sig); } catch { /* gone */ } };
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  try {
    await until(() => /http:\/\/[\d.]+:\d+/.test(out), 10_000, 'the start-up line');
    const port = Number(/http:\/\/[\d.]+:(\d+)/.exec(out)![1]);
    const app = { port } as Running;
    const pids = await workerPids(app, 2);
    const inFlight = get(port, '/work?ms=600', false, 5000);
    await sleep(150);
    killGroup('SIGINT'); // what a terminal's Ctrl-C does
    const r = await inFlight;
    assert.equal(r.status, 200, out);
    assert.equal(await exited, 0);
    assert.match(out, /SIGINT: draining 2 workers/);
    for (const pid of pids) await until(() => !alive(pid), 2000, `worker ${pid} to be gone`);
  } finally {
    killGroup('SIGKILL');
  }
});

test('workers whose primary disappears drain and exit', { timeout: 15_000 }, async () => {
  const app = await startCli(['--workers', '2']);
  const pids = await workerPids(app, 2);
  try {
    app.proc.kill('SIGKILL');
    await app.exited;
    for (const pid of pids) await until(() => !alive(pid), 5000, `orphaned worker ${pid} to exit`);
  } finally {
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
});
