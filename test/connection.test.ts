// handleConnection over an in-memory stream: no network, the way the async book tests
// handle_connection with a fake TcpStream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection, handleConnection, type ConnectionOptions } from '../src/http/connection.js';
import { HttpError } from '../src/http/errors.js';
import type { Handler } from '../src/http/types.js';
import { demoSite } from '../src/app/site.js';
import { memoryStream, splitResponses } from './helpers/memory.js';
import { observeTransitions } from '../src/http/h1/state.js';

// Strict: any state transition not in the tables (src/http/h1/state.ts) throws.
before(() => observeTransitions(() => {}, true));
after(() => observeTransitions(null));

const GET = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

function serveMemory(handler: Handler, options: ConnectionOptions = {}) {
  const m = memoryStream();
  const done = handleConnection(m.stream, handler, { onError: () => {}, ...options });
  return { ...m, done };
}

const echoPath: Handler = (req) => ({ headers: { 'Content-Type': 'text/plain' }, body: `${req.method} ${req.path}` });

test('the demo site over a fake stream: / is hello.html, anything else 404.html', async () => {
  const c = serveMemory(demoSite({ sleepMs: 10 }));
  c.send(GET('/') + GET('/nope'));
  const out = await c.waitFor((o) => splitResponsesSafe(o).length === 2);
  const [a, b] = splitResponses(out);
  assert.equal(a.status, 200);
  assert.equal(a.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(Number(a.headers['content-length']), Buffer.byteLength(a.body));
  assert.match(a.body, /<h1>Hello!<\/h1>/);
  assert.match(a.headers.date, /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/);
  assert.equal(b.status, 404);
  assert.match(b.body, /<h1>Oops!<\/h1>/);
  assert.match(b.body, /Sorry, I don't know what you're asking for\./);
  assert.equal(c.serverEnded, false, 'keep-alive: the connection stays open');
  c.end();
  await c.done;
});

test('keep-alive: several requests on one connection, one after another', async () => {
  const c = serveMemory(echoPath);
  for (let i = 0; i < 3; i++) {
    c.send(GET(`/r${i}`));
    await c.waitFor((o) => splitResponsesSafe(o).length === i + 1);
  }
  assert.deepEqual(splitResponses(c.output()).map((r) => r.body), ['GET /r0', 'GET /r1', 'GET /r2']);
  c.end();
  await c.done;
});

test('pipelined requests run concurrently but are answered in request order', async () => {
  // Observed, not inferred: the fast handlers start (and finish) while the slow one is still running.
  const events: string[] = [];
  const handler: Handler = async (req) => {
    events.push(`start ${req.path}`);
    await sleep(req.path === '/slow' ? 150 : 5);
    events.push(`end ${req.path}`);
    return { body: req.path };
  };
  const c = serveMemory(handler);
  c.send(GET('/slow') + GET('/fast1') + GET('/fast2'));
  const out = await c.waitFor((o) => splitResponsesSafe(o).length === 3);
  const slowEnd = events.indexOf('end /slow');
  assert.ok(events.indexOf('start /fast1') < slowEnd && events.indexOf('start /fast2') < slowEnd, `handlers 2 and 3 started while 1 ran: ${events.join(', ')}`);
  assert.ok(events.indexOf('end /fast1') < slowEnd, `handler 2 even finished first: ${events.join(', ')}`);
  assert.deepEqual(splitResponses(out).map((r) => r.body), ['/slow', '/fast1', '/fast2'], 'yet the answers come in request order');
  c.end();
  await c.done;
});

test('ready responses are batched into one write', async () => {
  const c = serveMemory(echoPath);
  let writes = 0;
  const orig = c.stream.write.bind(c.stream);
  c.stream.write = ((...args: Parameters<typeof orig>) => { writes++; return orig(...args); }) as typeof c.stream.write;
  c.send(GET('/a') + GET('/b') + GET('/c') + GET('/d'));
  await c.waitFor((o) => splitResponsesSafe(o).length === 4);
  assert.equal(writes, 1);
  c.end();
  await c.done;
});

test('request bodies: buffered, as text, and streamed', async () => {
  const handler: Handler = async (req) => {
    if (req.path === '/buf') return { body: Buffer.concat([Buffer.from('got:'), await req.body()]) };
    if (req.path === '/text') return { body: `text:${await req.text()}` };
    let n = 0;
    for await (const chunk of req.stream()) n += (chunk as Buffer).length;
    return { body: `streamed:${n}` };
  };
  const c = serveMemory(handler);
  c.send('POST /buf HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhel');
  await sleep(10);
  c.send('lo');
  c.send('POST /text HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n');
  const big = 'x'.repeat(300_000);
  c.send(`POST /stream HTTP/1.1\r\nHost: t\r\nContent-Length: ${big.length}\r\n\r\n${big}`);
  const out = await c.waitFor((o) => splitResponsesSafe(o).length === 3);
  assert.deepEqual(splitResponses(out).map((r) => r.body), ['got:hello', 'text:abcdef', 'streamed:300000']);
  c.end();
  await c.done;
});

test('a body nobody reads is discarded and the next request is served', async () => {
  const c = serveMemory(echoPath);
  const big = 'y'.repeat(200_000);
  c.send(`POST /ignored HTTP/1.1\r\nHost: t\r\nContent-Length: ${big.length}\r\n\r\n${big}` + GET('/next'));
  const out = await c.waitFor((o) => splitResponsesSafe(o).length === 2);
  assert.deepEqual(splitResponses(out).map((r) => r.body), ['POST /ignored', 'GET /next']);
  c.end();
  await c.done;
});

test('a throwing handler gives 500 and the connection carries on; HttpError gives its status', async () => {
  const handler: Handler = (req) => {
    if (req.path === '/throw') throw new Error('boom');
    if (req.path === '/reject') return Promise.reject(new Error('async boom'));
    if (req.path === '/forbidden') throw new HttpError(403, 'Forbidden: no');
    return { body: 'fine' };
  };
  const errors: unknown[] = [];
  const c = serveMemory(handler, { onError: (e) => errors.push(e) });
  c.send(GET('/throw') + GET('/reject') + GET('/forbidden') + GET('/ok'));
  const out = await c.waitFor((o) => splitResponsesSafe(o).length === 4);
  const rs = splitResponses(out);
  assert.deepEqual(rs.map((r) => r.status), [500, 500, 403, 200]);
  assert.equal(rs[2].body, 'Forbidden: no\n');
  assert.equal(errors.length, 2, 'the two unexpected errors are reported');
  assert.equal(c.serverEnded, false);
  c.end();
  await c.done;
});

test('a malformed request after valid ones: those are answered, then 400 and close', async () => {
  const c = serveMemory(echoPath);
  c.send(GET('/ok') + 'GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx' + GET('/never'));
  const out = await c.closed();
  const rs = splitResponses(out);
  assert.deepEqual(rs.map((r) => r.status), [200, 400]);
  assert.equal(rs[1].headers.connection, 'close');
  assert.match(rs[1].body, /Content-Length/);
  await c.done;
});

test('HEAD gets the head with Content-Length and no body', async () => {
  const c = serveMemory(demoSite({ sleepMs: 10 }));
  c.send('HEAD / HTTP/1.1\r\nHost: t\r\n\r\n' + GET('/'));
  const out = await c.waitFor((o) => (o.match(/HTTP\/1\.1 200/g) ?? []).length === 2 && o.endsWith('</html>\n'));
  const first = out.slice(0, out.indexOf('HTTP/1.1 200', 5));
  assert.match(first, new RegExp(`Content-Length: ${(await import('node:fs')).statSync(new URL('../../site/hello.html', import.meta.url)).size}\r\n`));
  assert.ok(first.endsWith('\r\n\r\n'), 'no body after the HEAD response');
  c.end();
  await c.done;
});

test('HTTP/1.0: closes by default, keeps alive on request', async () => {
  const c1 = serveMemory(echoPath);
  c1.send('GET /a HTTP/1.0\r\n\r\n');
  const out1 = await c1.closed();
  assert.match(out1, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(out1, /Connection: close\r\n/);
  const c2 = serveMemory(echoPath);
  c2.send('GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  const out2 = await c2.waitFor((o) => o.endsWith('GET /a'));
  assert.match(out2, /Connection: keep-alive\r\n/);
  assert.equal(c2.serverEnded, false);
  c2.end();
  await Promise.all([c1.done, c2.done]);
});

test('Connection: close is honoured: answer, then close', async () => {
  const c = serveMemory(echoPath);
  c.send(GET('/a', 'Connection: close\r\n') + GET('/ignored'));
  const out = await c.closed();
  assert.equal(splitResponses(out).length, 1);
  assert.match(out, /Connection: close\r\n/);
  await c.done;
});

test('streamed responses: chunked on 1.1, Content-Length when given, close-delimited on 1.0', async () => {
  const handler: Handler = (req) => {
    const body = Readable.from([Buffer.from('ab'), 'cd', Buffer.from('ef')]);
    if (req.path === '/len') return { headers: { 'Content-Length': '6' }, body };
    return { body };
  };
  const c = serveMemory(handler);
  c.send(GET('/chunked') + GET('/len'));
  const out = await c.waitFor((o) => splitResponsesSafe(o).length === 2);
  const [a, b] = splitResponses(out);
  assert.equal(a.headers['transfer-encoding'], 'chunked');
  assert.equal(a.body, 'abcdef');
  assert.equal(b.headers['content-length'], '6');
  assert.equal(b.body, 'abcdef');
  c.end();
  await c.done;

  const c10 = serveMemory(handler);
  c10.send('GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  const out10 = await c10.closed();
  assert.match(out10, /Connection: close\r\n\r\nabcdef$/);
  await c10.done;
});

test('Expect: 100-continue: 100 is sent when the handler reads the body', async () => {
  const c = serveMemory(async (req) => ({ body: `got ${(await req.body()).length}` }));
  c.send('PUT /x HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n');
  await c.waitFor((o) => o === 'HTTP/1.1 100 Continue\r\n\r\n');
  c.send('data');
  const out = await c.waitFor((o) => o.endsWith('got 4'));
  assert.match(out, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
  c.end();
  await c.done;
});

test('Expect: 100-continue answered without reading: no 100, final response, then close', async () => {
  const c = serveMemory(() => ({ status: 413, body: 'too big for me' }));
  c.send('PUT /x HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n');
  const out = await c.closed();
  assert.doesNotMatch(out, /100 Continue/);
  assert.match(out, /^HTTP\/1\.1 413 /);
  assert.match(out, /Connection: close/);
  await c.done;
});

test('timeouts: a slow head gets 408, an idle connection closes quietly, a slow body gets 408', async () => {
  const opts = { headersTimeoutMs: 80, keepAliveTimeoutMs: 80, requestTimeoutMs: 150 };
  const slowHead = serveMemory(echoPath, opts);
  slowHead.send('GET / HTTP/1.1\r\nHost: t\r\n');
  const out1 = await slowHead.closed(2000);
  assert.match(out1, /^HTTP\/1\.1 408 Request Timeout\r\n/);

  const idle = serveMemory(echoPath, opts);
  idle.send(GET('/a'));
  const out2 = await idle.closed(2000);
  assert.equal(splitResponses(out2).length, 1, 'the answered request, then a quiet close');
  assert.doesNotMatch(out2, /408/);

  const slowBody = serveMemory(async (req) => ({ body: await req.text() }), opts);
  slowBody.send('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc');
  const out3 = await slowBody.closed(2000);
  assert.match(out3, /^HTTP\/1\.1 408 /);
  await Promise.all([slowHead.done, idle.done, slowBody.done]);
});

test('a slowloris that keeps sending bytes still hits the headers deadline', async () => {
  const c = serveMemory(echoPath, { headersTimeoutMs: 150, keepAliveTimeoutMs: 5000 });
  c.send('GET / HTTP/1.1\r\n');
  const drip = setInterval(() => c.send('X: y\r\n'), 20);
  const out = await c.closed(2000);
  clearInterval(drip);
  assert.match(out, /^HTTP\/1\.1 408 /);
  await c.done;
});

test('response header injection is refused with 500, not written', async () => {
  const c = serveMemory(() => ({ headers: { 'X-Evil': 'a\r\nSet-Cookie: pwned=1' }, body: 'x' }));
  c.send(GET('/'));
  const out = await c.closed();
  assert.match(out, /^HTTP\/1\.1 500 /);
  assert.doesNotMatch(out, /pwned/);
  await c.done;
});

test('the body of a 204/304 is never sent; Content-Length is not invented for them', async () => {
  const c = serveMemory((req) => ({ status: req.path === '/204' ? 204 : 304, body: 'should not appear' }));
  c.send(GET('/204') + GET('/304'));
  const out = await c.waitFor((o) => (o.match(/\r\n\r\n/g) ?? []).length === 2);
  await sleep(20);
  assert.doesNotMatch(c.output(), /should not appear|Content-Length/);
  c.end();
  await c.done;
});

test('a client that half-closes after its requests still gets every response', async () => {
  const c = serveMemory(async (req) => { await sleep(20); return { body: req.path }; });
  c.send(GET('/1') + GET('/2'));
  c.end();
  const out = await c.closed();
  assert.deepEqual(splitResponses(out).map((r) => r.body), ['/1', '/2']);
  await c.done;
});

test('a request cut off by the peer mid-body gets 400 and the handler sees the error', async () => {
  let seen: unknown = null;
  const c = serveMemory(async (req) => {
    try { await req.body(); } catch (e) { seen = e; throw e; }
    return { body: 'no' };
  });
  c.send('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc');
  await sleep(10);
  c.end();
  const out = await c.closed();
  assert.match(out, /^HTTP\/1\.1 400 /);
  assert.ok(seen instanceof HttpError);
  await c.done;
});

function splitResponsesSafe(raw: string) {
  try { return splitResponses(raw); } catch { return []; }
}

test('bodies of responses still queued when the connection closes are destroyed', async () => {
  let made = 0;
  let destroyed = 0;
  const handler: Handler = async (req) => {
    if (req.path === '/slow') await sleep(30);
    made++;
    const body = new Readable({ read() { this.push('x'.repeat(1000)); } }); // endless
    body.on('close', () => destroyed++);
    return { body };
  };
  const c = serveMemory(handler);
  c.send(GET('/slow') + GET('/a') + GET('/b'));
  await sleep(5);
  c.stream.destroy(); // the client goes away while /a and /b wait behind /slow
  await c.done;
  await sleep(60); // /slow settles after the close
  assert.equal(made, 3);
  await sleep(5);
  assert.equal(destroyed, 3, 'every response body was released');
});

test('a frozen response object is reused: the same head bytes within a second, a new Date line the next second', async () => {
  const res = Object.freeze({ status: 201, headers: Object.freeze({ 'X-A': '1' }), body: Buffer.from('same') });
  const c = serveMemory(() => res);
  // Start right after a second boundary so the first two requests share their second.
  await sleep(1000 - (Date.now() % 1000) + 20);
  c.send(GET('/') + GET('/'));
  await c.waitFor((o) => splitResponsesSafe(o).length === 2);
  await sleep(1000 - (Date.now() % 1000) + 20); // the next second
  c.send(GET('/'));
  const out = await c.waitFor((o) => splitResponsesSafe(o).length === 3);
  const heads = out.split('same').slice(0, 3);
  const [a, b, d] = splitResponses(out);
  for (const r of [a, b, d]) assert.deepEqual([r.status, r.headers['x-a'], r.body], [201, '1', 'same']);
  assert.equal(heads[0], heads[1], 'the same second: byte-for-byte the same head');
  assert.notEqual(a.headers.date, d.headers.date, 'the next second: the Date line was renewed');
  assert.equal(heads[2].replace(/Date: [^\r]*/, ''), heads[0].replace(/Date: [^\r]*/, ''), 'and nothing else changed');
  c.end();
  await c.done;
});

test('a new connection gets the headers timeout, not the keep-alive timeout, to send its first request', async () => {
  const c = serveMemory(echoPath, { headersTimeoutMs: 400, keepAliveTimeoutMs: 50 });
  await sleep(150);
  assert.equal(c.serverEnded, false, 'still open after the keep-alive timeout');
  c.send(GET('/first'));
  await c.waitFor((o) => o.endsWith('GET /first'));
  const out = await c.closed(2000); // then idle between requests: the keep-alive timeout
  assert.equal(splitResponses(out).length, 1);
  await c.done;
});

test('drain(): a request already on its way to an idle connection is still answered, with Connection: close', async () => {
  const m = memoryStream();
  const conn = new Connection(m.stream, echoPath, { onError: () => {} });
  conn.drain();
  await sleep(20);
  m.send(GET('/late'));
  const out = await m.closed(2000);
  const [r] = splitResponses(out);
  assert.equal(r.body, 'GET /late');
  assert.equal(r.headers.connection, 'close');
  await conn.done;

  const idle = memoryStream();
  const conn2 = new Connection(idle.stream, echoPath, { onError: () => {} });
  conn2.drain();
  const out2 = await idle.closed(2000);
  assert.equal(out2, '', 'an idle connection closes quietly after the grace');
  await conn2.done;
});

test('drain(): a request in progress finishes, then the connection closes', async () => {
  const m = memoryStream();
  const conn = new Connection(m.stream, async () => { await sleep(50); return { body: 'done' }; }, { onError: () => {} });
  m.send(GET('/slow'));
  await sleep(10);
  conn.drain();
  const out = await m.closed(2000);
  const [r] = splitResponses(out);
  assert.equal(r.body, 'done');
  assert.equal(r.headers.connection, 'close');
  await conn.done;
});

test('closing: a clean Connection: close exchange releases the stream at once; after an error it lingers for unread input', async () => {
  const clean = memoryStream();
  const done = handleConnection(clean.stream, echoPath, { onError: () => {} });
  clean.send(GET('/a', 'Connection: close\r\n'));
  await done; // destroyed without the client closing its side
  assert.equal(clean.stream.destroyed, true);
  assert.equal(splitResponses(clean.output()).length, 1);

  const bad = memoryStream();
  const badDone = handleConnection(bad.stream, echoPath, { onError: () => {} });
  bad.send('GET / HTTP/1.1\r\nHost: t\r\nContent-Length: x\r\n\r\n');
  await bad.waitFor((o) => o.includes('400 Bad Request'));
  await sleep(100);
  assert.equal(bad.stream.destroyed, false, 'still draining what the client may still send, so no RST eats the 400');
  bad.send('more garbage that is read and dropped');
  bad.end();
  await badDone;
});
