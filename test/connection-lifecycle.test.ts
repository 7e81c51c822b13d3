// How a connection's exchanges end: bodies released when an error replaces a response, bodies
// still delivered after an early final answer, the send timeout, and the transition tables
// checked on every state change made by these scenarios and those of connection.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection, handleConnection, type ConnectionOptions } from '../src/http/connection.js';
import {
  CONTINUE_TRANSITIONS, EXCHANGE_TRANSITIONS, IllegalTransition, move, observeTransitions, Read, READ_TRANSITIONS,
  WRITE_TRANSITIONS, Write,
} from '../src/http/h1/state.js';
import type { Handler } from '../src/http/types.js';
import { memoryStream, splitResponses } from './helpers/memory.js';

const GET = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

// Every transition any test here makes is checked against the tables, and throws if illegal.
const seen = new Set<string>();
before(() => observeTransitions((machine, from, to) => { seen.add(`${machine}:${from}->${to}`); }, true));
after(() => observeTransitions(null));

function serveMemory(handler: Handler, options: ConnectionOptions = {}, stream = memoryStream()) {
  const done = handleConnection(stream.stream, handler, { onError: () => {}, ...options });
  return { ...stream, done };
}

/** An endless body that records whether it was destroyed. */
function trackedBody() {
  const body = new Readable({ read() { this.push('x'.repeat(1000)); } });
  const state = { destroyed: false };
  body.on('close', () => { state.destroyed = true; });
  return { body, state };
}

test('an error that replaces the response (peer half-closes mid-body) releases the body the handler returns later', async () => {
  const tracked = trackedBody();
  let handlerDone!: () => void;
  const answered = new Promise<void>((r) => (handlerDone = r));
  const c = serveMemory(async (req) => {
    await req.body().catch(() => {}); // fails: the body is cut off
    await sleep(30);                  // the 400 is already out by now
    handlerDone();
    return { body: tracked.body };
  });
  c.send('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc');
  await sleep(10);
  c.end();
  const out = await c.closed();
  assert.match(out, /^HTTP\/1\.1 400 Bad Request\r\n/);
  await answered;
  await sleep(10);
  assert.equal(tracked.state.destroyed, true, 'the late response body was destroyed');
  await c.done;
});

test('an error that replaces the response (request timeout) releases the body the handler returns later', async () => {
  const tracked = trackedBody();
  let handlerDone!: () => void;
  const answered = new Promise<void>((r) => (handlerDone = r));
  const c = serveMemory(async () => {
    await sleep(400); // ignores the body; answers after the 408
    handlerDone();
    return { body: tracked.body };
  }, { requestTimeoutMs: 100 });
  c.send('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc');
  await c.waitFor((o) => o.includes('408 Request Timeout'), 3000);
  await answered;
  await sleep(10);
  assert.equal(tracked.state.destroyed, true, 'the late response body was destroyed');
  c.stream.destroy();
  await c.done;
});

test('an error that replaces a response already waiting its turn releases that response\'s body when the error is written', async () => {
  const tracked = trackedBody();
  const c = serveMemory(async (req) => {
    if (req.path === '/slow') { await sleep(300); return { body: 'slow' }; }
    return { body: tracked.body }; // answers at once, without reading its body; waits behind /slow
  }, { requestTimeoutMs: 100 });
  c.send(GET('/slow') + 'POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc');
  await sleep(200);
  assert.equal(tracked.state.destroyed, false, 'still waiting behind /slow');
  const out = await c.waitFor((o) => o.includes('408 Request Timeout'), 3000);
  assert.match(out, /^HTTP\/1\.1 200 OK\r\n[^]*slowHTTP\/1\.1 408 /);
  await sleep(10);
  assert.equal(tracked.state.destroyed, true, 'the replaced response body was destroyed');
  c.stream.destroy();
  await c.done;
});

for (const [name, request] of [
  ['Connection: close', 'POST /up HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 10\r\n\r\n'],
  ['HTTP/1.0', 'POST /up HTTP/1.0\r\nContent-Length: 10\r\n\r\n'],
] as const) {
  test(`${name}: a handler that answers early and then reads the rest of the body still gets all of it`, async () => {
    let got: string | Error = '';
    let readDone!: () => void;
    const read = new Promise<void>((r) => (readDone = r));
    const c = serveMemory((req) => {
      req.text().then((t) => { got = t; }, (e: Error) => { got = e; }).finally(readDone);
      return { status: 202, body: 'accepted\n' };
    });
    c.send(request + '01234');
    await c.waitFor((o) => o.includes('accepted'));
    await sleep(30);
    c.send('56789');
    await read;
    assert.equal(got, '0123456789');
    const out = await c.closed();
    assert.equal(splitResponses(out)[0]!.status, 202);
    await c.done;
  });
}

test('send timeout: a client that never reads a streamed response is cut after sendTimeoutMs', async () => {
  const tracked = trackedBody();
  const records: { aborted: boolean }[] = [];
  const c = serveMemory(() => ({ body: tracked.body }), { sendTimeoutMs: 200, onResponse: (_req, r) => records.push(r) }, memoryStream({ stallWrites: true }));
  const t0 = Date.now();
  c.send(GET('/big'));
  await Promise.race([c.done, sleep(3000).then(() => { throw new Error('not destroyed within 3 s'); })]);
  const took = Date.now() - t0;
  assert.ok(took >= 190, `cut after ${took} ms, not before the send timeout`);
  assert.equal(c.stream.destroyed, true);
  assert.equal(tracked.state.destroyed, true, 'the body stream was released');
  assert.deepEqual(records.map((r) => r.aborted), [true]);
});

test('send timeout: waiting for our last bytes to leave (Connection: close, client never reads) is bounded too', async () => {
  const c = serveMemory(() => ({ body: Buffer.alloc(100_000, 'x') }), { sendTimeoutMs: 200 }, memoryStream({ stallWrites: true }));
  c.send(GET('/', 'Connection: close\r\n'));
  await Promise.race([c.done, sleep(3000).then(() => { throw new Error('not destroyed within 3 s'); })]);
  assert.equal(c.stream.destroyed, true);
});

test('send timeout: a slow reader that keeps making progress is not cut', async () => {
  // Each write completes after 60 ms; 40 writes take far longer than the 200 ms send timeout.
  const chunks = Array.from({ length: 40 }, () => Buffer.alloc(20_000, 'y'));
  const c = serveMemory(() => ({ body: Readable.from(chunks) }), { sendTimeoutMs: 200 }, memoryStream({ writeDelayMs: 60 }));
  c.send(GET('/slow'));
  const out = await c.waitFor((o) => o.endsWith('0\r\n\r\n'), 10_000);
  assert.equal(splitResponses(out)[0]!.body.length, 800_000);
  assert.equal(c.stream.destroyed, false);
  c.end();
  await c.done;
});

test('a string body without Content-Type is text/plain; charset=utf-8; the handler\'s own field wins in any case', async () => {
  const c = serveMemory((req) => (req.path === '/own' ? { headers: { 'content-TYPE': 'text/csv' }, body: 'a,b' } : { body: 'héllo' }));
  c.send(GET('/plain') + GET('/own'));
  const out = await c.waitFor((o) => o.endsWith('a,b'));
  const [a, b] = splitResponses(out);
  assert.equal(a!.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(Number(a!.headers['content-length']), Buffer.byteLength('héllo'));
  assert.equal(b!.headers['content-type'], 'text/csv');
  assert.equal((out.match(/content-type/gi) ?? []).length, 2, 'one Content-Type per response');
  c.end();
  await c.done;
});

test('errors sluice writes itself: status line reason and body agree (RFC 9110 names)', async () => {
  const c = serveMemory(() => ({ body: 'x' }), { maxBodySize: 10 });
  c.send('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n');
  const out = await c.closed();
  assert.match(out, /^HTTP\/1\.1 413 Content Too Large\r\n/);
  assert.match(splitResponses(out)[0]!.body, /^Content Too Large/);
  await c.done;
  const t = serveMemory(() => ({ body: 'x' }), { headersTimeoutMs: 80 });
  t.send('GET / HTTP/1.1\r\n');
  const out2 = await t.closed();
  assert.match(out2, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  assert.match(splitResponses(out2)[0]!.body, /^Request Timeout: /);
  await t.done;
});

test('whenDone: every callback runs once when the connection closes, after its exchanges; one given later runs at once', async () => {
  const m = memoryStream();
  const released: string[] = [];
  const conn = new Connection(m.stream, () => ({ body: 'ok' }), { onError: () => {}, onResponse: () => released.push('exchange') });
  const order: string[] = [];
  conn.whenDone(() => order.push('a'));
  conn.whenDone(() => order.push('b'));
  const p = conn.done;
  assert.equal(conn.closed, false);
  m.send(GET('/'));
  await sleep(10);
  assert.deepEqual(order, [], 'not while open');
  m.end();
  await m.closed();
  await p;
  assert.equal(conn.closed, true);
  assert.deepEqual(order, ['a', 'b']);
  assert.deepEqual(released, ['exchange'], 'the exchange was settled before');
  let late = false;
  conn.whenDone(() => { late = true; });
  assert.equal(late, true, 'at once, on a closed connection');
});

test('the transition tables: illegal moves throw (strict mode), and these scenarios made only legal ones', () => {
  assert.throws(() => move('read', READ_TRANSITIONS, Read.Closed, Read.Head), IllegalTransition);
  assert.throws(() => move('read', READ_TRANSITIONS, Read.Eof, Read.Body), IllegalTransition);
  assert.throws(() => move('write', WRITE_TRANSITIONS, Write.Finished, Write.Open), IllegalTransition);
  assert.throws(() => move('write', WRITE_TRANSITIONS, Write.Ending, Write.Streaming), IllegalTransition);
  assert.throws(() => move('exchange', EXCHANGE_TRANSITIONS, 3, 1), IllegalTransition); // Done → Ready
  assert.throws(() => move('continue', CONTINUE_TRANSITIONS, 3, 1), IllegalTransition); // Sent → Awaited
  // (every transition above the assertions went through move() in strict mode: an illegal one would have thrown there)
  assert.ok(seen.size >= 10, `a variety of transitions was exercised: ${[...seen].join(' ')}`);
  // Outside tests an illegal move does not throw (that would take the process down): move() says
  // false and the connection reports it to onError and cuts only itself.
  observeTransitions(null, false);
  assert.equal(move('read', READ_TRANSITIONS, Read.Closed, Read.Head), false);
  assert.equal(move('read', READ_TRANSITIONS, Read.Head, Read.Body), true);
  observeTransitions((machine, from, to) => { seen.add(`${machine}:${from}->${to}`); }, true);
  for (const t of ['read:1->2', 'read:0->4', 'write:0->1', 'write:1->0', 'write:0->2', 'write:2->3', 'exchange:1->3']) {
    assert.ok(seen.has(t), `transition ${t} was exercised`);
  }
});
