// The hooks other layers build on: ConnectionInfo (4th argument), req.remoteAddress / scheme /
// host with a trusted proxy's view consulted lazily, req.signal, and onResponse once per exchange.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection, handleConnection } from '../src/http/connection.js';
import type { ConnectionInfo, IncomingRequest } from '../src/http/request.js';
import type { ResponseRecord } from '../src/http/h1/options.js';
import type { Handler } from '../src/http/types.js';
import { memoryStream, splitResponses } from './helpers/memory.js';

const GET = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: example.test\r\n${extra}\r\n`;

test('ConnectionInfo: the given peer and scheme reach the request; a trusted proxy\'s view is read lazily, once per request', async () => {
  let consulted = 0;
  const info: ConnectionInfo = {
    remoteAddress: '10.0.0.1', remotePort: 4242, scheme: 'http',
    forwarded: (req) => { consulted++; return req.headers.get('x-forwarded-for') ? { remoteAddress: req.headers.get('x-forwarded-for'), scheme: 'https', host: 'public.test' } : {}; },
  };
  const m = memoryStream();
  const seen: string[] = [];
  const handler: Handler = (req) => {
    if (req.path === '/lazy') return { body: 'no look' };
    seen.push(`${req.remoteAddress} ${req.scheme} ${req.host} ${req.remoteAddress}`);
    return { body: 'ok' };
  };
  const conn = new Connection(m.stream, handler, { onError: () => {} }, info);
  assert.equal(conn.info, info);
  m.send(GET('/lazy') + GET('/direct') + GET('/proxied', 'X-Forwarded-For: 203.0.113.9\r\n'));
  await m.waitFor((o) => splitResponses(o).length === 3);
  assert.deepEqual(seen, ['10.0.0.1 http example.test 10.0.0.1', '203.0.113.9 https public.test 203.0.113.9']);
  assert.equal(consulted, 2, 'not for /lazy, and once for each request that asked');
  m.end();
  await conn.done;
});

test('ConnectionInfo by default: read off the stream (nothing known for an in-memory stream, scheme http)', async () => {
  const m = memoryStream();
  const done = handleConnection(m.stream, (req) => ({ body: `${req.remoteAddress} ${req.scheme} ${req.host}` }), { onError: () => {} });
  m.send(GET('/'));
  const out = await m.waitFor((o) => o.endsWith('example.test'));
  assert.equal(splitResponses(out)[0]!.body, 'undefined http example.test');
  m.end();
  await done;
});

test('req.signal aborts when the connection closes before the response is written, and only then', async () => {
  const signals = new Map<string, AbortSignal>();
  const m = memoryStream();
  const done = handleConnection(m.stream, async (req) => {
    signals.set(req.path, req.signal);
    if (req.path === '/slow') await sleep(200);
    return { body: req.path };
  }, { onError: () => {} });
  m.send(GET('/fast'));
  await m.waitFor((o) => o.endsWith('/fast'));
  m.send(GET('/slow'));
  await sleep(30);
  m.stream.destroy();
  await done;
  assert.equal(signals.get('/fast')!.aborted, false);
  assert.equal(signals.get('/slow')!.aborted, true);
});

test('onResponse: once per exchange, with the status and body bytes (not framing); aborted ones and protocol errors too', async () => {
  const records: [string, ResponseRecord][] = [];
  const onResponse = (req: IncomingRequest, r: ResponseRecord) => records.push([`${req.method} ${req.path}`, r]);
  const m = memoryStream();
  const done = handleConnection(m.stream, (req) => {
    if (req.path === '/stream') return { body: Readable.from([Buffer.from('abc'), Buffer.from('de')]) };
    if (req.path === '/bytes') return { status: 201, body: Buffer.from('12345678') };
    return { body: 'h\u00e9' };
  }, { onError: () => {}, onResponse });
  m.send(GET('/text') + GET('/bytes') + GET('/stream') + 'HEAD /text HTTP/1.1\r\nHost: t\r\n\r\n' + 'BAD\r\n\r\n');
  await m.closed();
  await done;
  assert.deepEqual(records, [
    ['GET /text', { status: 200, bodyBytes: 3, aborted: false }],
    ['GET /bytes', { status: 201, bodyBytes: 8, aborted: false }],
    ['GET /stream', { status: 200, bodyBytes: 5, aborted: false }],
    ['HEAD /text', { status: 200, bodyBytes: 0, aborted: false }],
    [' ', { status: 400, bodyBytes: records[4]![1].bodyBytes, aborted: false }],
  ]);
  assert.ok(records[4]![1].bodyBytes > 0);

  const records2: ResponseRecord[] = [];
  const m2 = memoryStream();
  const done2 = handleConnection(m2.stream, async () => { await sleep(100); return { body: 'late' }; }, { onError: () => {}, onResponse: (_r, x) => records2.push(x) });
  m2.send(GET('/a'));
  await sleep(20);
  m2.stream.destroy();
  await done2;
  assert.deepEqual(records2, [{ status: 0, bodyBytes: 0, aborted: true }], 'reported once, as aborted, before the handler answered');
  await sleep(120);
  assert.equal(records2.length, 1, 'and not again when it does');
});
