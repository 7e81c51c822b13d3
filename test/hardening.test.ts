// The connection's defences over real TCP sockets (serve() in this process, raw clients): response
// splitting refused, a client that never reads cut after the send timeout, a body still delivered
// after an early final answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { serve, type ServeOptions, type Server } from '../src/server/server.js';
import { ResponseHeadError } from '../src/http/encode.js';
import type { Handler } from '../src/http/types.js';
import { RawClient, countResponses, rawRequest } from './helpers/net.js';

async function withServer(handler: Handler, options: ServeOptions, fn: (s: Server) => Promise<void>): Promise<void> {
  const server = await serve(handler, { host: '127.0.0.1', port: 0, ...options });
  try {
    await fn(server);
  } finally {
    await server.close(1000);
  }
}

test('response splitting over a real socket: a value with U+010D U+010A gives 500, nothing of it on the wire, the error reported', async () => {
  const errors: unknown[] = [];
  let released = false;
  await withServer((req) => {
    if (req.path === '/ok') return { body: 'fine' };
    const body = new Readable({ read() { this.push('secret'); } });
    body.on('close', () => { released = true; });
    return { headers: { 'X-Name': 'a\u010d\u010aSet-Cookie: pwned=1' }, body };
  }, { onError: (err) => errors.push(err) }, async (s) => {
    const out = await rawRequest(s.port, 'GET /evil HTTP/1.1\r\nHost: t\r\n\r\nGET /ok HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n', { ms: 5000 });
    assert.match(out, /^HTTP\/1\.1 500 Internal Server Error\r\n/);
    assert.doesNotMatch(out, /Set-Cookie|pwned|X-Name|secret/i);
    assert.doesNotMatch(out, /\r\n\r\n[^]*\r\n\r\nfine/, 'the connection closed after the 500 (the second request is not answered)');
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof ResponseHeadError, String(errors[0]));
    await sleep(20);
    assert.equal(released, true, 'the handler\'s body stream was released');
  });
});

test('send timeout over a real socket: a 32 MiB response to a client that never reads is cut after sendTimeoutMs', async () => {
  const body = Buffer.alloc(32 * 1024 * 1024, 'a');
  const records: { aborted: boolean; bodyBytes: number }[] = [];
  let closedAt = 0;
  await withServer(() => ({ body }), {
    sendTimeoutMs: 500,
    onResponse: (_req, r) => { records.push(r); closedAt = Date.now(); },
  }, async (s) => {
    const client = net.connect(s.port, '127.0.0.1');
    client.on('error', () => {});
    await new Promise((r) => client.once('connect', r));
    client.pause(); // never reads: the kernel buffers fill, then the server's writes stop progressing
    const sentAt = Date.now();
    client.write('GET /big HTTP/1.1\r\nHost: t\r\n\r\n');
    const deadline = Date.now() + 15_000;
    while (records.length === 0 && Date.now() < deadline) await sleep(50);
    client.destroy();
    assert.equal(records.length, 1, 'the exchange ended (not held until server.close())');
    assert.equal(records[0]!.aborted, true);
    assert.ok(records[0]!.bodyBytes < body.length, `only ${records[0]!.bodyBytes} bytes could be handed over`);
    assert.ok(closedAt - sentAt >= 450, `cut after ${closedAt - sentAt} ms: not before the send timeout`);
    assert.equal(s.connections, 0);
  });
});

test('a handler that answers a Connection: close upload early still reads the rest of the body over TCP', async () => {
  let got = '';
  await withServer(async (req) => {
    void req.text().then((t) => { got = t; }, () => { got = 'failed'; });
    return { status: 202, body: 'accepted\n' };
  }, {}, async (s) => {
    const c = new RawClient(s.port);
    await c.connected;
    c.send('POST /up HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 8\r\n\r\nfirst');
    const out = await c.until((o) => countResponses(o) === 1);
    assert.match(out, /^HTTP\/1\.1 202 Accepted\r\n[^]*Connection: close\r\n/);
    c.send('end');
    await c.until((_o, closed) => closed, 5000);
    assert.equal(got, 'firstend');
  });
});
