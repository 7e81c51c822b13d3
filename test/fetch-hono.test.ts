// Hono, unchanged, on sluice: serve(app) over real sockets. Routes, query, JSON, cookies,
// multipart, streaming (each chunk reaches the client before the next is produced), 404 and
// onError, a client that leaves mid-stream, a body over the limit. Every test has a deadline.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { streamSSE, streamText } from 'hono/streaming';
import { fromFetch, serve, type Server } from '../src/index.js';
import { RawClient, rawRequest } from './helpers/net.js';

const state = {
  uploadsCalled: 0,
  /** streamText: the app waits for the client's go-ahead before producing the next chunk. */
  goAhead: [] as (() => void)[],
  produced: 0,
  sse: { started: 0, aborted: 0, finished: 0 },
  /** onResponse records of /sse exchanges the connection gave up on. */
  sseCut: 0,
};

function nextGoAhead(): Promise<void> {
  return new Promise((resolve) => state.goAhead.push(resolve));
}

const app = new Hono<{ Bindings: { remoteAddress: string } }>();
app.get('/', (c) => c.text('Hello from Hono'));
app.get('/user/:id', (c) => c.json({ id: c.req.param('id'), lang: c.req.query('lang') ?? null, agent: c.req.header('x-agent') ?? null }));
app.post('/echo', async (c) => c.json({ got: await c.req.json() }, 201));
app.get('/cookies', (c) => {
  const seen = getCookie(c, 'session') ?? null;
  setCookie(c, 'a', '1', { path: '/' });
  setCookie(c, 'b', '2', { httpOnly: true });
  return c.json({ seen });
});
app.post('/upload', async (c) => {
  state.uploadsCalled++;
  const form = await c.req.parseBody();
  const file = form.file as File;
  return c.json({ title: form.title, name: file.name, type: file.type, size: file.size, text: await file.text() });
});
app.get('/stream', (c) => streamText(c, async (stream) => {
  for (let i = 1; i <= 3; i++) {
    state.produced = i;
    await stream.write(`chunk ${i}\n`);
    if (i < 3) await nextGoAhead();
  }
}));
app.get('/sse', (c) => streamSSE(c, async (stream) => {
  state.sse.started++;
  let aborted = false;
  stream.onAbort(() => { aborted = true; });
  c.req.raw.signal.addEventListener('abort', () => state.sse.aborted++);
  for (let i = 0; !aborted && i < 500; i++) {
    await stream.writeSSE({ data: `tick ${i}` });
    await stream.sleep(20);
  }
  state.sse.finished++;
}));
app.get('/ip', (c) => c.text(c.env.remoteAddress));
app.get('/boom', () => { throw new Error('kaboom'); });
app.notFound((c) => c.json({ error: 'no such route', path: c.req.path }, 404));
app.onError((err, c) => c.json({ error: err.message }, 500));

let server: Server;
let base = '';
const ready = serve(app, {
  port: 0, maxBodySize: 64 * 1024, onError: () => {},
  onResponse: (req, rec) => { if (req.path === '/sse' && rec.aborted) state.sseCut++; },
}).then((s) => {
  server = s;
  base = s.url.slice(0, -1);
});
after(() => server?.close(100));

test('routes with params and a query string, a request header', { timeout: 10_000 }, async () => {
  await ready;
  const res = await fetch(`${base}/user/42?lang=fr`, { headers: { 'x-agent': 'test' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.deepEqual(await res.json(), { id: '42', lang: 'fr', agent: 'test' });
  const text = await fetch(`${base}/`);
  assert.equal(await text.text(), 'Hello from Hono');
  assert.equal(text.headers.get('content-length'), '15');
});

test('JSON in and out', { timeout: 10_000 }, async () => {
  await ready;
  const res = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: [1, 2], b: 'é' }) });
  assert.equal(res.status, 201);
  assert.deepEqual(await res.json(), { got: { a: [1, 2], b: 'é' } });
});

test('cookies in, several Set-Cookie out kept apart', { timeout: 10_000 }, async () => {
  await ready;
  const res = await fetch(`${base}/cookies`, { headers: { cookie: 'other=x; session=abc' } });
  assert.deepEqual(await res.json(), { seen: 'abc' });
  assert.deepEqual(res.headers.getSetCookie(), ['a=1; Path=/', 'b=2; Path=/; HttpOnly']);
  const raw = await rawRequest(server.port, 'GET /cookies HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.equal(raw.match(/^set-cookie: /gim)?.length, 2, raw);
});

test('a multipart upload is parsed (Hono parseBody over request.formData)', { timeout: 10_000 }, async () => {
  await ready;
  const form = new FormData();
  form.append('title', 'holiday');
  form.append('file', new Blob(['file contents\n'], { type: 'text/plain' }), 'notes.txt');
  const res = await fetch(`${base}/upload`, { method: 'POST', body: form });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { title: 'holiday', name: 'notes.txt', type: 'text/plain', size: 14, text: 'file contents\n' });
});

test('streamText: each chunk reaches the client before the next one is produced', { timeout: 10_000 }, async () => {
  await ready;
  state.goAhead = [];
  const res = await fetch(`${base}/stream`);
  assert.equal(res.headers.get('transfer-encoding'), 'chunked');
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let got = '';
  for (let i = 1; i <= 3; i++) {
    while (!got.includes(`chunk ${i}\n`)) {
      const { value, done } = await reader.read(); // deadlocks (and the test times out) if chunks were held back
      assert.ok(!done, `the stream ended before chunk ${i}`);
      got += decoder.decode(value, { stream: true });
    }
    assert.equal(state.produced, i, `chunk ${i + 1} was produced before chunk ${i} arrived`);
    state.goAhead.shift()?.();
  }
  assert.ok((await reader.read()).done);
  assert.equal(got, 'chunk 1\nchunk 2\nchunk 3\n');
});

test('Hono notFound and onError answer; the server carries on', { timeout: 10_000 }, async () => {
  await ready;
  const missing = await fetch(`${base}/nowhere`);
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { error: 'no such route', path: '/nowhere' });
  const boom = await fetch(`${base}/boom`);
  assert.equal(boom.status, 500);
  assert.deepEqual(await boom.json(), { error: 'kaboom' });
  assert.equal((await fetch(`${base}/`)).status, 200);
});

test('a client that disconnects mid-stream: the signal aborts, the stream stops, the connection is released', { timeout: 15_000 }, async () => {
  await ready;
  const before = { ...state.sse, cut: state.sseCut, connections: server.connections };
  const client = new RawClient(server.port);
  await client.connected;
  client.send('GET /sse HTTP/1.1\r\nHost: x\r\n\r\n');
  await client.until((out) => out.includes('data: tick 2'));
  client.close();
  const deadline = Date.now() + 5000;
  const settled = () => state.sse.aborted > before.aborted && state.sse.finished > before.finished &&
    state.sseCut > before.cut && server.connections <= before.connections;
  while (!settled() && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(state.sse.started, before.started + 1);
  assert.equal(state.sse.aborted, before.aborted + 1, 'request.signal aborted');
  assert.equal(state.sse.finished, before.finished + 1, 'the SSE loop ended (stream.onAbort)');
  assert.equal(state.sseCut, before.cut + 1, 'the exchange was recorded as aborted');
  assert.ok(server.connections <= before.connections, 'the connection is gone');
});

test('a body over maxBodySize: 413, and the app is not called when Content-Length says so', { timeout: 10_000 }, async () => {
  await ready;
  const calls = state.uploadsCalled;
  const raw = await rawRequest(server.port, `POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${100 * 1024}\r\n\r\n`, { ms: 3000 });
  assert.match(raw, /^HTTP\/1\.1 413 /);
  assert.equal(state.uploadsCalled, calls, 'the app was not called');
  // Chunked, so only the reading finds out: the answer is still 413, whatever the app made of it.
  const chunk = 'x'.repeat(16 * 1024);
  const body = Array.from({ length: 6 }, () => `${(chunk.length).toString(16)}\r\n${chunk}\r\n`).join('') + '0\r\n\r\n';
  const raw2 = await rawRequest(server.port, `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${body}`, { ms: 3000 });
  assert.match(raw2, /^HTTP\/1\.1 413 /);
});

test('HEAD: no body, the length GET would have; c.env carries the client address', { timeout: 10_000 }, async () => {
  await ready;
  const raw = await rawRequest(server.port, 'HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(raw, /^HTTP\/1\.1 200 /);
  assert.match(raw, /\r\ncontent-length: 15\r\n/i);
  assert.ok(raw.endsWith('\r\n\r\n'), 'no body after the head');
  assert.equal(await (await fetch(`${base}/ip`)).text(), '127.0.0.1');
});

test('the same server setup runs a plain fetch handler, no framework', { timeout: 10_000 }, async () => {
  const plain = await serve(fromFetch(async (request: Request, info) => {
    const url = new URL(request.url);
    if (request.method === 'POST') return Response.json({ echoed: await request.text(), from: info.remoteAddress });
    return new Response(`plain ${url.pathname}${url.search}`, { headers: { 'x-kind': 'plain' } });
  }), { port: 0 });
  try {
    const get = await fetch(`${plain.url}a/b?c=d`);
    assert.equal(get.headers.get('x-kind'), 'plain');
    assert.equal(get.headers.get('content-type'), 'text/plain;charset=UTF-8');
    assert.equal(await get.text(), 'plain /a/b?c=d');
    const post = await fetch(plain.url, { method: 'POST', body: 'hi' });
    assert.deepEqual(await post.json(), { echoed: 'hi', from: '127.0.0.1' });
  } finally {
    await plain.close(100);
  }
});

test('common Hono middleware work unchanged: bodyLimit, etag (304), compress, cors', { timeout: 10_000 }, async () => {
  const { bodyLimit } = await import('hono/body-limit');
  const { etag } = await import('hono/etag');
  const { compress } = await import('hono/compress');
  const { cors } = await import('hono/cors');
  const mw = new Hono();
  mw.use('*', cors());
  mw.use('/e/*', etag());
  mw.use('/c/*', compress());
  mw.post('/limit', bodyLimit({ maxSize: 10, onError: (c) => c.text('too big', 413) }), async (c) => c.text(`got ${await c.req.text()}`));
  mw.get('/e/x', (c) => c.text('etagged'));
  mw.get('/c/x', (c) => c.text('z'.repeat(5000)));
  const s = await serve(mw, { port: 0 });
  const u = s.url.slice(0, -1);
  try {
    assert.equal(await (await fetch(`${u}/limit`, { method: 'POST', body: 'small' })).text(), 'got small');
    assert.equal((await fetch(`${u}/limit`, { method: 'POST', body: 'x'.repeat(100) })).status, 413);
    const e = await fetch(`${u}/e/x`);
    assert.equal(e.headers.get('access-control-allow-origin'), '*');
    assert.equal(await e.text(), 'etagged');
    assert.equal((await fetch(`${u}/e/x`, { headers: { 'if-none-match': e.headers.get('etag')! } })).status, 304);
    const c = await fetch(`${u}/c/x`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(c.headers.get('content-encoding'), 'gzip');
    assert.equal(await c.text(), 'z'.repeat(5000));
  } finally {
    await s.close(100);
  }
});
