// --workers N with SO_REUSEPORT (a listening socket per worker, Node >= 22.12 / 23.1): the mode is
// chosen by what the running Node can do, and a rolling restart loses no connection even when
// every request opens a new one (the slot's socket outlives its workers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startCli } from './helpers/cli.js';
import { until } from './helpers/traffic.js';
import { startLoad } from './helpers/load.js';
import { nodeHasReusePort } from '../src/cluster/listen-mode.js';

const hasReusePort = nodeHasReusePort();

/** Linux: listening TCP sockets (state 0A) on 127.0.0.1:`port`, from /proc/net/tcp (one line per socket, not per descriptor). */
function listeningSockets(port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8').split('\n')
    .filter((l) => l.includes(`0100007F:${hexPort} `) && / 0A /.test(l)).length;
}

test(`the listen mode follows this Node (${process.version}): ${hasReusePort ? 'a socket per worker' : 'one socket, round-robin'}`, { timeout: 15_000 }, async () => {
  const app = await startCli(['--workers', '2']);
  try {
    assert.equal(/\(2 workers, reusePort\)/.test(app.output()), hasReusePort, app.output());
    assert.equal(listeningSockets(app.port), hasReusePort ? 2 : 1);
  } finally {
    assert.equal(await app.stop(), 0);
  }
});

test('SIGHUP under a new connection per request: zero failed requests, the sockets survive', { timeout: 30_000, skip: !hasReusePort && 'this Node has no reusePort' }, async () => {
  const app = await startCli(['--workers', '2']);
  const traffic = startLoad({ port: app.port, fresh: 8, concurrency: 0, path: '/work?ms=1' });
  try {
    await until(() => traffic.pids().size >= 2, 5000, 'both workers to answer');
    for (let round = 1; round <= 2; round++) {
      app.proc.kill('SIGHUP');
      await until(() => (app.output().match(/rolling restart done/g) ?? []).length === round, 20_000, `rolling restart ${round} to finish`);
    }
    await traffic.stop();
    assert.deepEqual(traffic.failures().map((f) => f.error), [], 'no request failed');
    assert.ok(traffic.outcomes.length > 100, `only ${traffic.outcomes.length} requests were made`);
    assert.equal(listeningSockets(app.port), 2, 'still one socket per worker slot, none leaked');
  } finally {
    await traffic.stop();
    assert.equal(await app.stop(), 0);
  }
});

test('a worker killed under reusePort is replaced on the same socket; the port keeps answering', { timeout: 20_000, skip: !hasReusePort && 'this Node has no reusePort' }, async () => {
  const app = await startCli(['--workers', '2']);
  const traffic = startLoad({ port: app.port, fresh: 4, concurrency: 0, path: '/work?ms=1' });
  try {
    await until(() => traffic.pids().size >= 2, 5000, 'both workers to answer');
    const victim = [...traffic.pids()][0]!;
    process.kill(victim, 'SIGKILL');
    await until(() => /listening \(replaces/.test(app.output()), 10_000, 'the replacement to listen');
    const after = traffic.outcomes.length;
    await until(() => traffic.outcomes.slice(after).filter((o) => o.ok).length >= 50, 10_000, 'requests after the replacement');
    await traffic.stop();
    assert.equal(traffic.outcomes.slice(after).filter((o) => !o.ok).length, 0, 'no failure once the replacement listens');
    assert.equal(listeningSockets(app.port), 2);
  } finally {
    await traffic.stop();
    assert.equal(await app.stop(), 0);
  }
});
