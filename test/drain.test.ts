// SIGTERM with --workers 2: while the workers drain, a new connection is either refused (the
// listening socket is gone) or served; never accepted and then reset. Under Node's round-robin
// (a Node without reusePort) this does not hold: when the last worker stops listening, the
// primary's RoundRobinHandle closes the connections it has accepted but not yet handed out, and
// sluice cannot reach them (see docs/BENCHMARKS.md, "Concurrency"), so the test runs where the
// cluster uses a socket per worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCli } from './helpers/cli.js';
import { get } from './helpers/traffic.js';
import { nodeHasReusePort } from '../src/cluster/listen-mode.js';

test('SIGTERM drain: new connections are served or refused, never reset', { timeout: 30_000, skip: !nodeHasReusePort() && 'round-robin cluster (no reusePort in this Node): known to reset a few' }, async () => {
  const app = await startCli(['--workers', '2', '--threads', '1']);
  try {
    // Requests in flight keep both workers draining for a while.
    const inFlight = [get(app.port, '/work?ms=700', false, 8000), get(app.port, '/work?ms=700', false, 8000)];
    await sleep(150);
    app.proc.kill('SIGTERM');
    const outcomes: string[] = [];
    const fresh: Promise<void>[] = [];
    // New connections through the drain, a few at a time, until well after the sockets closed.
    for (let i = 0; i < 60; i++) {
      for (let k = 0; k < 3; k++) {
        fresh.push(get(app.port, '/', false, 8000).then(
          (r) => { outcomes.push(`status ${r.status}`); },
          (e: NodeJS.ErrnoException) => { outcomes.push(e.code ?? e.message); },
        ));
      }
      await sleep(15);
    }
    await Promise.all(fresh);
    for (const r of await Promise.all(inFlight)) assert.equal(r.status, 200);
    const bad = outcomes.filter((o) => o !== 'status 200' && o !== 'ECONNREFUSED');
    assert.deepEqual(bad, [], `every new connection served (200) or refused; got ${JSON.stringify(tally(outcomes))}`);
    assert.ok(outcomes.includes('status 200'), 'some were served during the drain');
    assert.ok(outcomes.includes('ECONNREFUSED'), 'and later ones refused');
    assert.equal(await app.exited, 0);
  } finally {
    await app.stop(1000);
  }
});

function tally(xs: string[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const x of xs) t[x] = (t[x] ?? 0) + 1;
  return t;
}
