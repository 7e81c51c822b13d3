// The Node internals the cluster code leans on, each checked on the running Node so that a Node
// release that changes them fails here, loudly, rather than silently turning a fallback on:
// reusePort detection, net.Server's `_handle` (passing a listening socket on), cluster's
// round-robin hand-off messages (handoff-patch.ts) and exitedAfterDisconnect (worker.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import cluster from 'node:cluster';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { listeningHandleOf, nodeHasReusePort, reusePortAvailable } from '../src/cluster/listen-mode.js';
import { closeOrphanedHandoffs, handoffStats } from '../src/cluster/handoff-patch.js';
import { startCli } from './helpers/cli.js';
import { get, until } from './helpers/traffic.js';

test('nodeHasReusePort knows the releases that added net.Server.listen({ reusePort })', () => {
  for (const v of ['20.19.0', '22.11.0', '23.0.0']) assert.equal(nodeHasReusePort(v), false, v);
  for (const v of ['22.12.0', '23.1.0', '24.0.0', '26.1.0']) assert.equal(nodeHasReusePort(v), true, v);
});

test(`reusePort works on this Node exactly when its version says so (${process.version}, Linux)`, { skip: process.platform !== 'linux' && 'SO_REUSEPORT semantics differ' }, async () => {
  assert.equal(await reusePortAvailable(), nodeHasReusePort());
});

test("net.Server's listening handle can be passed on (it has a descriptor)", async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const h = listeningHandleOf(server);
    assert.ok(h, 'net.Server._handle with a numeric fd');
    assert.equal(typeof h.close, 'function');
  } finally {
    server.close();
  }
});

test("cluster's round-robin hand-off messages have the shape the orphan patch reads", { timeout: 20_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-handoff-'));
  const worker = path.join(dir, 'worker.mjs');
  fs.writeFileSync(worker, `import net from 'node:net';
const s = net.createServer((c) => c.end('ok'));
s.listen(0, '127.0.0.1', () => process.send({ port: s.address().port }));
`);
  cluster.schedulingPolicy = cluster.SCHED_RR;
  cluster.setupPrimary({ exec: worker, silent: true });
  const w = cluster.fork();
  try {
    assert.equal(closeOrphanedHandoffs(w), true, 'the patch installs on a worker');
    const port = await new Promise<number>((resolve) => w.once('message', (m: { port: number }) => resolve(m.port)));
    const before = { ...handoffStats };
    for (let i = 0; i < 5; i++) {
      const reply = await new Promise<string>((resolve, reject) => {
        const c = net.connect(port, '127.0.0.1');
        let data = '';
        c.on('data', (d) => (data += d));
        c.on('end', () => resolve(data));
        c.on('error', reject);
      });
      assert.equal(reply, 'ok');
    }
    await until(() => handoffStats.acked - before.acked >= 5, 5000, 'the acks');
    assert.equal(handoffStats.shapeMismatch, 0, "a 'newconn' message without a numeric seq");
    assert.equal(handoffStats.newconn - before.newconn, 5, 'every hand-off seen');
    assert.equal(handoffStats.acked - before.acked, 5, 'every hand-off acked');
  } finally {
    w.process.kill('SIGKILL');
    await new Promise((r) => w.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('exitedAfterDisconnect still keeps an orphaned worker alive: its in-flight request is answered', { timeout: 20_000 }, async () => {
  const app = await startCli(['--workers', '2', '--threads', '1']);
  try {
    const inFlight = get(app.port, '/work?ms=800', false, 8000);
    await sleep(250);
    app.proc.kill('SIGKILL'); // the primary dies; the worker serving the request is orphaned
    const r = await inFlight;
    assert.equal(r.status, 200);
    assert.doesNotMatch(app.output(), /no exitedAfterDisconnect/);
    await until(() => { try { process.kill(r.pid, 0); return false; } catch { return true; } }, 8000, 'the orphan to exit after its drain');
  } finally {
    await app.stop(1000);
  }
});
