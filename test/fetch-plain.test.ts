// Plain fetch handlers (no framework) on sluice, over real sockets: what the Request carries,
// every kind of Response body, errors, HEAD, and request-body backpressure. Every test has a deadline.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { generate } from 'selfsigned';
import { fromFetch, handleConnection, serve, type FetchInfo, type Server } from '../src/index.js';
import { RawClient, rawRequest } from './helpers/net.js';

const errors: string[] = [];
let slowBody: { release: () => void; reading: Promise<number> } | null = null;

async function handler(request: Request, info: FetchInfo): Promise<Response> {
  const url = new URL(request.url);
  switch (url.pathname) {
    case '/describe':
      return Response.json({
        url: request.url, method: request.method, isRequest: request instanceof Request,
        accept: request.headers.get('accept'), multi: request.headers.get('x-multi'),
        entries: [...request.headers].length, remote: info.remoteAddress, port: typeof info.remotePort, scheme: info.scheme,
        body: request.body === null ? null : await request.text(),
      });
    case '/string': return new Response('héllo', { status: 202, statusText: 'Taken' });
    case '/bytes': return new Response(new Uint8Array([1, 2, 3]));
    case '/arraybuffer': return new Response(new Uint8Array([4, 5]).buffer);
    case '/blob': return new Response(new Blob(['blob body'], { type: 'text/x-blob' }));
    case '/urlencoded': return new Response(new URLSearchParams({ a: '1', b: 'x y' }));
    case '/formdata': { const f = new FormData(); f.append('k', 'v'); return new Response(f); }
    case '/null': return new Response(null, { status: 204 });
    case '/stream': {
      let i = 0;
      return new Response(new ReadableStream({
        pull(c) { if (++i > 3) c.close(); else c.enqueue(new TextEncoder().encode(`part ${i};`)); },
      }), { headers: { 'content-type': 'text/plain' } });
    }
    case '/cookies': {
      const h = new Headers({ 'content-type': 'text/plain' });
      h.append('set-cookie', 'a=1');
      h.append('set-cookie', 'b=2; Secure');
      return new Response('ok', { headers: h });
    }
    case '/native': return new (Object.getPrototypeOf(Response) as typeof Response)('from the platform class', { headers: { 'x-n': '1' } });
    case '/echo-stream': return new Response(request.body, { headers: { 'content-type': 'application/octet-stream' } });
    case '/ignore-body': void request.body; return new Response('ignored');
    case '/throw': throw new Error('thrown on purpose');
    case '/reject': return Promise.reject(new Error('rejected on purpose'));
    case '/not-a-response': return { status: 200, body: 'nope' } as unknown as Response;
    case '/slow-body': {
      // Reads one chunk, then stops until the test releases it: the client must stall meanwhile.
      const reader = request.body!.getReader();
      let n = (await reader.read()).value?.byteLength ?? 0;
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      const reading = released.then(async () => {
        for (;;) { const { value, done } = await reader.read(); if (done) return n; n += value.byteLength; }
      });
      slowBody = { release, reading };
      return new Response(`total ${await reading}`);
    }
    default: return new Response('not found', { status: 404 });
  }
}

let server: Server;
const ready = serve(fromFetch(handler), {
  port: 0, maxBodySize: 64 * 1024 * 1024,
  onError: (err) => errors.push((err as Error).message),
}).then((s) => (server = s));
after(() => server?.close(100));
const url = (p: string) => `${server.url.slice(0, -1)}${p}`;

test('the Request: absolute URL, method, every header line, the body; the info argument', { timeout: 10_000 }, async () => {
  await ready;
  const raw = await rawRequest(server.port,
    'POST /describe?q=1 HTTP/1.1\r\nHost: example.test:8080\r\nAccept: text/html\r\nX-Multi: one\r\nX-Multi: two\r\n' +
    'Content-Length: 5\r\nConnection: close\r\n\r\nhello');
  const d = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
  assert.deepEqual(d, {
    url: 'http://example.test:8080/describe?q=1', method: 'POST', isRequest: true, accept: 'text/html', multi: 'one, two',
    entries: 5, remote: '127.0.0.1', port: 'number', scheme: 'http', body: 'hello',
  });
  const get = await (await fetch(url('/describe'))).json();
  assert.equal(get.body, null, 'a GET has no body');
  // Dot segments are resolved, as the URL parser does.
  const dots = await rawRequest(server.port, 'GET /a/../describe HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
  assert.equal(JSON.parse(dots.slice(dots.indexOf('\r\n\r\n') + 4)).url, 'http://h/describe');
});

test('Response bodies: string, bytes, ArrayBuffer, Blob, URLSearchParams, FormData, null, ReadableStream', { timeout: 10_000 }, async () => {
  await ready;
  const s = await fetch(url('/string'));
  assert.equal(s.status, 202);
  assert.equal(s.statusText, 'Taken');
  assert.equal(s.headers.get('content-type'), 'text/plain;charset=UTF-8');
  assert.equal(s.headers.get('content-length'), '6');
  assert.equal(await s.text(), 'héllo');
  assert.deepEqual([...new Uint8Array(await (await fetch(url('/bytes'))).arrayBuffer())], [1, 2, 3]);
  assert.deepEqual([...new Uint8Array(await (await fetch(url('/arraybuffer'))).arrayBuffer())], [4, 5]);
  const b = await fetch(url('/blob'));
  assert.equal(b.headers.get('content-type'), 'text/x-blob');
  assert.equal(b.headers.get('content-length'), '9');
  assert.equal(await b.text(), 'blob body');
  const u = await fetch(url('/urlencoded'));
  assert.equal(u.headers.get('content-type'), 'application/x-www-form-urlencoded;charset=UTF-8');
  assert.equal(await u.text(), 'a=1&b=x+y');
  const f = await fetch(url('/formdata'));
  assert.match(f.headers.get('content-type') ?? '', /^multipart\/form-data; boundary=/);
  assert.equal((await f.formData()).get('k'), 'v');
  const n = await fetch(url('/null'));
  assert.equal(n.status, 204);
  assert.equal(await n.text(), '');
  const raw = await rawRequest(server.port, 'GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(raw, /\r\nTransfer-Encoding: chunked\r\n/);
  assert.ok(raw.endsWith('7\r\npart 1;\r\n7\r\npart 2;\r\n7\r\npart 3;\r\n0\r\n\r\n'), raw);
  const native = await fetch(url('/native'));
  assert.equal(native.headers.get('x-n'), '1');
  assert.equal(await native.text(), 'from the platform class');
});

test('several Set-Cookie fields stay apart', { timeout: 10_000 }, async () => {
  await ready;
  const raw = await rawRequest(server.port, 'GET /cookies HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.deepEqual(raw.match(/^set-cookie: .*$/gim)?.map((l) => l.trim()), ['set-cookie: a=1', 'set-cookie: b=2; Secure']);
});

test('HEAD: the head only', { timeout: 10_000 }, async () => {
  await ready;
  const raw = await rawRequest(server.port, 'HEAD /string HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(raw, /^HTTP\/1\.1 202 Taken\r\n/);
  assert.ok(raw.endsWith('\r\n\r\n'), raw);
  const stream = await rawRequest(server.port, 'HEAD /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.ok(stream.endsWith('\r\n\r\n') && !stream.includes('part'), stream);
});

test('a thrown error, a rejected promise, a non-Response: 500 with a log line, the server carries on', { timeout: 10_000 }, async () => {
  await ready;
  errors.length = 0;
  for (const p of ['/throw', '/reject', '/not-a-response']) assert.equal((await fetch(url(p))).status, 500, p);
  assert.equal(errors.length, 3);
  assert.match(errors[0]!, /thrown on purpose/);
  assert.match(errors[1]!, /rejected on purpose/);
  assert.match(errors[2]!, /fetch handler returned an object \(Object\) for GET \/not-a-response, not a Response/);
  assert.equal((await fetch(url('/string'))).status, 202);
});

test('request.body has backpressure: the client stalls while the app does not read', { timeout: 20_000 }, async () => {
  await ready;
  slowBody = null;
  const total = 16 * 1024 * 1024;
  const client = new RawClient(server.port);
  await client.connected;
  const socket: net.Socket = client.socket;
  client.send(`POST /slow-body HTTP/1.1\r\nHost: x\r\nContent-Length: ${total}\r\nConnection: close\r\n\r\n`);
  const piece = Buffer.alloc(64 * 1024, 0x61);
  let written = 0;
  // Write until the kernel buffers are full (write() says wait), then give it a moment.
  const fill = async () => {
    while (written < total) {
      const ok = socket.write(piece);
      written += piece.length;
      if (!ok) await new Promise((r) => socket.once('drain', r));
    }
  };
  const filling = fill();
  const deadline = Date.now() + 5000;
  while (slowBody === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.ok(slowBody, 'the app got the request');
  await new Promise((r) => setTimeout(r, 500));
  const stalledAt = written;
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(written, stalledAt, 'the client made no progress while the app was not reading');
  assert.ok(stalledAt < total / 2, `the server buffered ${stalledAt} bytes`);
  (slowBody as { release: () => void }).release();
  await filling;
  const out = await client.until((o, closed) => closed || o.includes(`total ${total}`), 10_000);
  assert.match(out, new RegExp(`total ${total}$`));
  client.close();
});

test('a request body streamed back as the response; a body stream left unread does not stall the connection', { timeout: 15_000 }, async () => {
  await ready;
  const big = Buffer.alloc(3 * 1024 * 1024, 0x62);
  const echoed = await fetch(url('/echo-stream'), { method: 'POST', body: big });
  assert.equal(Buffer.from(await echoed.arrayBuffer()).equals(big), true);
  const client = new RawClient(server.port);
  await client.connected;
  const body = 'z'.repeat(512 * 1024);
  client.send(`POST /ignore-body HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}GET /string HTTP/1.1\r\nHost: x\r\n\r\n`);
  const out = await client.until((o) => o.includes('héllo'.replace('é', '\u00c3\u00a9')), 5000);
  assert.match(out, /ignored[\s\S]*HTTP\/1\.1 202 Taken/);
  client.close();
});

test('over TLS the URL is https and info.scheme says so', { timeout: 20_000 }, async () => {
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], { keySize: 2048, algorithm: 'sha256' });
  const handler = fromFetch((request: Request, info: FetchInfo) => Response.json({ url: request.url, scheme: info.scheme }));
  const server = tls.createServer({ key: pems.private, cert: pems.cert }, (socket) => void handleConnection(socket, handler));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port, path: '/secure?x=1', rejectUnauthorized: false, agent: false }, (res) => {
        let b = '';
        res.on('data', (d) => (b += d));
        res.on('end', () => resolve(b));
      });
      req.setTimeout(5000, () => req.destroy(new Error('no answer')));
      req.on('error', reject);
    });
    assert.deepEqual(JSON.parse(body), { url: `https://127.0.0.1:${port}/secure?x=1`, scheme: 'https' });
  } finally {
    server.close();
  }
});
