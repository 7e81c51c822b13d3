// SIGTERM with --workers 2: what the workers have accepted is served, never reset. A connection
// accepted just before the drain whose request arrives during it gets its answer (with
// Connection: close); new connections after the sockets close are refused.
//
// Connections that arrive while the listening sockets quiesce (a closing socket would reset its
// accept queue) are held and served after the close: test/drain-saturation.test.ts asserts no
// reset under a new connection per request at full speed, test/drain-quiesce.test.ts the
// Listener's part. An open-ended stream of new clients never lets a socket go quiet: it closes
// after at most QUIESCE_MAX_MS, and what the kernel queued in that instant is reset
// (docs/BENCHMARKS.md, "SIGTERM drain under a new connection per request").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCli } from './helpers/cli.js';
import { RawClient } from './helpers/net.js';
import { get } from './helpers/traffic.js';

test('SIGTERM drain: connections accepted before it are served when their request comes during it; then refused', { timeout: 30_000 }, async () => {
  const app = await startCli(['--workers', '2', '--threads', '1']);
  const clients: RawClient[] = [];
  try {
    // A request in flight keeps the drain going.
    const inFlight = get(app.port, '/work?ms=700', false, 8000);
    for (let i = 0; i < 10; i++) clients.push(new RawClient(app.port));
    await Promise.all(clients.map((c) => c.connected));
    await sleep(300); // accepted by the workers (and, under round-robin, handed to them)
    app.proc.kill('SIGTERM');
    await sleep(30);
    for (const c of clients) c.send('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    const replies = await Promise.all(clients.map((c) => c.until((out, closed) => closed, 8000)));
    for (const r of replies) {
      assert.match(r, /^HTTP\/1\.1 200 /, `served, not reset: ${JSON.stringify(r.slice(0, 80))}`);
      assert.match(r, /\r\nconnection: close\r\n/i);
    }
    assert.equal((await inFlight).status, 200);
    const refused = await new Promise<string>((resolve) => {
      const s = net.connect(app.port, '127.0.0.1');
      s.on('connect', () => { s.destroy(); resolve('connected'); });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    assert.equal(refused, 'ECONNREFUSED', 'the listening sockets are closed during the drain');
    assert.equal(await app.exited, 0);
  } finally {
    for (const c of clients) c.close();
    await app.stop(1000);
  }
});
