// Listener: the accept stream. Accepted sockets wait (unread) in a bounded queue; past it a
// connection is answered 503 with Retry-After; close() stops accepting but still yields what
// was queued, then ends the stream. Real TCP connections on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Listener } from '../src/server/listener.js';
import { RawClient, rawRequest } from './helpers/net.js';

async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function connectRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const t = setTimeout(() => { s.destroy(); resolve(false); }, 3000);
    s.on('connect', () => { clearTimeout(t); s.destroy(); resolve(false); });
    s.on('error', (e: NodeJS.ErrnoException) => { clearTimeout(t); resolve(e.code === 'ECONNREFUSED'); });
  });
}

test('connections beyond the queue get 503 with Retry-After; queued ones wait unread', async () => {
  const listener = await Listener.listen({ host: '127.0.0.1', port: 0, queue: 2 });
  const clients: RawClient[] = [];
  try {
    const port = listener.address.port;
    for (let i = 0; i < 2; i++) {
      const c = new RawClient(port);
      await c.connected;
      c.send(`GET /${i} HTTP/1.1\r\nHost: h\r\n\r\n`);
      clients.push(c);
    }
    await waitFor(() => listener.waiting === 2, 'two queued connections');
    const busy = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n');
    assert.match(busy, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    assert.match(busy, /\r\nRetry-After: 1\r\n/);
    assert.match(busy, /\r\nConnection: close\r\n/);
    assert.equal(listener.rejected, 1);
    assert.equal(listener.waiting, 2, 'the queue is unchanged');
    // the queued sockets come out in order, and nothing was read from them yet
    const it = listener.incoming();
    const first = (await it.next()).value as net.Socket;
    assert.equal(first.bytesRead, 0, 'accepted paused: unread until the consumer starts');
    const got = await new Promise<string>((resolve) => { first.once('data', (d) => resolve(d.toString())); first.resume(); });
    assert.match(got, /^GET \/0 /, 'first queued, first out');
    const second = (await it.next()).value as net.Socket;
    assert.equal(listener.waiting, 0);
    first.destroy();
    second.destroy();
  } finally {
    for (const c of clients) c.close();
    listener.close();
  }
});

test('a consumer waiting for a connection gets it as soon as it is accepted', async () => {
  const listener = await Listener.listen({ host: '127.0.0.1', port: 0, queue: 0 });
  try {
    const it = listener.incoming();
    const next = it.next();
    const c = new RawClient(listener.address.port);
    await c.connected;
    const r = await Promise.race([next, sleep(5000).then(() => null)]);
    assert.ok(r !== null && r.done === false, 'yielded');
    assert.equal(listener.rejected, 0, 'a waiting consumer takes it even with queue 0');
    (r.value as net.Socket).destroy();
    c.close();
  } finally {
    listener.close();
  }
});

test('close(): no new connections, queued ones are still yielded, then the stream ends', async () => {
  const listener = await Listener.listen({ host: '127.0.0.1', port: 0, queue: 4 });
  const port = listener.address.port;
  const c = new RawClient(port);
  await c.connected;
  await waitFor(() => listener.waiting === 1, 'one queued connection');
  listener.close();
  listener.close(); // idempotent
  // (the listening socket closes at the end of this loop turn: what the kernel accepted meanwhile is served)
  await waitFor(() => !listener.server.listening, 'the listening socket closed');
  assert.equal(await connectRefused(port), true, 'the port no longer accepts');
  const it = listener.incoming();
  const queued = await it.next();
  assert.equal(queued.done, false, 'the connection queued before close() is still yielded');
  (queued.value as net.Socket).destroy();
  assert.deepEqual(await it.next(), { value: undefined, done: true });
  c.close();
});

test('close() ends a consumer that is waiting for a connection', async () => {
  const a = await Listener.listen({ host: '127.0.0.1', port: 0, queue: 4 });
  const waiting = a.incoming().next();
  a.close();
  assert.deepEqual(await waiting, { value: undefined, done: true });

});

test('for await over incoming(): a break closes the listener', async () => {
  const listener = await Listener.listen({ host: '127.0.0.1', port: 0, queue: 4 });
  const port = listener.address.port;
  const c = new RawClient(port);
  await c.connected;
  for await (const s of listener.incoming()) {
    s.destroy();
    break;
  }
  await waitFor(() => !listener.server.listening, 'the listening socket closed');
  assert.equal(await connectRefused(port), true, 'closed by the break');
  c.close();
});

test('listen() rejects when the port is taken', async () => {
  const a = await Listener.listen({ host: '127.0.0.1', port: 0, queue: 1 });
  try {
    await assert.rejects(Listener.listen({ host: '127.0.0.1', port: a.address.port, queue: 1 }), /EADDRINUSE/);
  } finally {
    a.close();
  }
});
