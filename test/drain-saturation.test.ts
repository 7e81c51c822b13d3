// SIGTERM under saturation: 30 clients opening a new connection per request at full speed. Every
// connection the kernel let connect is answered (200, with Connection: close) or the connect is
// refused; none is reset or closed without a response (the listening sockets quiesce before they
// close: see Listener.close). With --workers 2 (round-robin on Node 20, reusePort where Node has
// it) and in a single process; a few runs each, since a reset depends on timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCli } from './helpers/cli.js';
import { requestOnce } from '../bench/drain-resets.js';

const CLIENTS = 30;

async function drainUnderLoad(workers: string): Promise<{ ok: number; refused: number; failures: string[] }> {
  const app = await startCli(['--workers', workers, '--threads', '1']);
  const counts = { ok: 0, refused: 0, failures: [] as string[] };
  let running = true;
  const client = async () => {
    while (running) {
      const o = await requestOnce(app.port);
      if (o === 'ok') counts.ok++;
      else if (o === 'refused') { counts.refused++; await sleep(5); }
      else counts.failures.push(o);
    }
  };
  const clients = Array.from({ length: CLIENTS }, client);
  try {
    await sleep(700);
    app.proc.kill('SIGTERM');
    assert.equal(await app.exited, 0);
    await sleep(100); // refused from here on: nothing listens
  } finally {
    running = false;
    await Promise.all(clients);
    await app.stop(1000);
  }
  return counts;
}

for (const workers of ['2', '1']) {
  test(`--workers ${workers}: SIGTERM under a new connection per request resets no connection (3 runs)`, { timeout: 30_000 }, async () => {
    for (let run = 1; run <= 3; run++) {
      const r = await drainUnderLoad(workers);
      assert.deepEqual(r.failures, [], `run ${run}: every connection answered or refused (${r.ok} answered, ${r.refused} refused)`);
      assert.ok(r.ok > CLIENTS, `run ${run}: the load ran (${r.ok} answered)`);
      assert.ok(r.refused >= CLIENTS, `run ${run}: refused after the drain (${r.refused})`);
    }
  });
}
