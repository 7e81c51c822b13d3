// The parser's strictness seen from a client: a real server on loopback, raw sockets, exact bytes.
// Each malformed request gets one error response and a close, and never reaches the handler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { serve, type Server } from '../src/server/server.js';
import { rawRequest } from './helpers/net.js';

async function withServer(fn: (s: Server, seen: string[]) => Promise<void>): Promise<void> {
  const seen: string[] = [];
  const server = await serve((req) => {
    seen.push(`${req.method} ${req.target}`);
    return { body: 'ok' };
  }, { port: 0, maxHeaderSize: 16 * 1024 });
  try {
    await fn(server, seen);
  } finally {
    await server.close(2000);
  }
}

const statuses = (raw: string) => [...raw.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

test('request smuggling with "Transfer-Encoding: \\xa0chunked": one 400, the smuggled request never runs', async () => {
  await withServer(async (server, seen) => {
    const input = Buffer.from('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \xa0chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n', 'latin1');
    const raw = await rawRequest(server.port, input);
    assert.deepEqual(statuses(raw), [400], raw);
    assert.deepEqual(seen, []);
  });
});

test('CONNECT is 501, an unknown method 501, a lower-case method 501, a backslash 400, %00 400, empty Host 400', async () => {
  await withServer(async (server, seen) => {
    for (const [input, status] of [
      ['CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 501],
      ['BREW / HTTP/1.1\r\nHost: h\r\n\r\n', 501],
      ['get / HTTP/1.1\r\nHost: h\r\n\r\n', 501],
      ['GET /a\\..\\b HTTP/1.1\r\nHost: h\r\n\r\n', 400],
      ['GET /etc/passwd%00.png HTTP/1.1\r\nHost: h\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nHost:\r\n\r\n', 400],
      ['POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 010\r\n\r\n0123456789', 400],
      [`${'M'.repeat(64)} / HTTP/1.1\r\nHost: h\r\n\r\n`, 400],
    ] as const) {
      const raw = await rawRequest(server.port, input);
      assert.deepEqual(statuses(raw), [status], `${JSON.stringify(input.slice(0, 40))}: ${raw.slice(0, 80)}`);
    }
    assert.deepEqual(seen, []);
    // and what is legal still works
    const ok = await rawRequest(server.port, 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ,chunked\r\nConnection: close\r\n\r\n2\r\nhi\r\n0\r\n\r\n');
    assert.deepEqual(statuses(ok), [200]);
  });
});

test('trailers sent one line per write (up to 1.48 MB) are refused with 431 and a close', async () => {
  await withServer(async (server, seen) => {
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    let raw = '';
    socket.on('data', (d) => { raw += d.toString('latin1'); });
    await new Promise((r) => socket.once('connect', r));
    socket.write('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n');
    const line = `X-T: ${'a'.repeat(94)}\r\n`;
    let sent = 0;
    const deadline = Date.now() + 20_000;
    while (!raw.includes('\r\n\r\n') && sent < 1_480_000 && Date.now() < deadline && !socket.destroyed) {
      socket.write(line);
      sent += line.length;
      if (sent % 2000 === 0) await new Promise((r) => setImmediate(r));
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 5000);
      const check = () => { if (raw.includes('\r\n\r\n')) { clearTimeout(t); resolve(); } };
      socket.on('data', check);
      check();
    });
    const closed = socket.readableEnded || await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 5000);
      socket.once('end', () => { clearTimeout(t); resolve(true); });
      socket.once('close', () => { clearTimeout(t); resolve(true); });
    });
    socket.destroy();
    assert.match(raw, /^HTTP\/1\.1 431 /, raw.slice(0, 100));
    assert.ok(closed, 'and the server closed the connection');
    // (how soon it refused is the parser's test: the client here queues writes faster than they go out)
    // the handler saw the request head (it runs as soon as the head is parsed); its body never ended well
    assert.ok(seen.length <= 1);
  });
});
