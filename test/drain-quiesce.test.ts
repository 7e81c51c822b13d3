// Listener.close({ quiesce }): while quiescing, new connections are accepted and held (not yielded);
// the listening socket closes once nothing came for quietMs, or at maxMs however busy it is; the
// held connections are yielded after the close, and only once `release` has resolved.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Listener } from '../src/server/listener.js';

const connect = (port: number) => new Promise<net.Socket>((resolve, reject) => {
  const s = net.connect(port, '127.0.0.1', () => resolve(s));
  s.on('error', reject);
});

async function waitFor(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

test('quiesce: connections during it are held, then yielded after the socket closes; release gates them', { timeout: 10_000 }, async () => {
  const l = await Listener.listen({ host: '127.0.0.1', port: 0, queue: 100 });
  const port = l.address.port;
  const yielded: number[] = [];
  let closedAt = 0;
  const t0 = performance.now();
  let release!: () => void;
  const released = new Promise<void>((r) => { release = r; });
  const consumer = (async () => { for await (const s of l) { yielded.push(performance.now() - t0); s.destroy(); } })();
  l.close({ quiesce: { quietMs: 100, maxMs: 2000 }, release: released, onSocketClosed: () => { closedAt = performance.now() - t0; } });
  const clients: net.Socket[] = [];
  try {
    for (let i = 0; i < 3; i++) { clients.push(await connect(port)); await sleep(40); }
    await waitFor(() => l.waiting === 3, 'three held connections');
    assert.deepEqual(yielded, [], 'nothing yielded while quiescing');
    await waitFor(() => closedAt > 0, 'the socket to close');
    assert.ok(closedAt >= 100 + 80, `closed only after a quiet period following the last connection (${closedAt.toFixed(0)} ms)`);
    assert.equal(l.server.listening, false);
    await sleep(50);
    assert.deepEqual(yielded, [], 'held until released');
    release();
    await consumer;
    assert.equal(yielded.length, 3, 'the held connections are yielded, then the stream ends');
  } finally {
    for (const c of clients) c.destroy();
  }
});

test('quiesce: a socket that never goes quiet closes at maxMs', { timeout: 10_000 }, async () => {
  const l = await Listener.listen({ host: '127.0.0.1', port: 0, queue: 1000 });
  const port = l.address.port;
  let closedAt = 0;
  const t0 = performance.now();
  const consumer = (async () => { for await (const s of l) s.destroy(); })();
  l.close({ quiesce: { quietMs: 100, maxMs: 400 }, onSocketClosed: () => { closedAt = performance.now() - t0; } });
  const clients: net.Socket[] = [];
  let refused = false;
  while (!refused && performance.now() - t0 < 3000) {
    try { clients.push(await connect(port)); } catch { refused = true; }
    await sleep(20);
  }
  for (const c of clients) c.destroy();
  await consumer;
  assert.ok(refused, 'the socket closed under a steady stream of connections');
  assert.ok(closedAt >= 390 && closedAt < 1000, `closed at maxMs (${closedAt.toFixed(0)} ms)`);
});
