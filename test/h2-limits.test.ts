// HTTP/2 limits and life cycle, and the TLS front, through serve({tls}) in this process:
// SETTINGS, rapid-reset GOAWAY, request signal, graceful close, idle and request timeouts, a
// half-closed client, the hooks, failed-handshake counts and reload(). Every test has a deadline.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { type Handler, type ServeOptions } from '../src/index.js';
import { curl } from './helpers/net.js';
import { h2connect, h2get, makeCert, serveTls, tempCert } from './helpers/tls.js';

const T = { timeout: 15_000 };
const { dir, local, cleanup } = tempCert('sluice-h2-limits-');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const start = (handler: Handler, extra: Partial<ServeOptions> = {}) => serveTls(handler, local, extra);
const connect = (origin: string) => h2connect(origin, local.cert);

after(cleanup);

describe('HTTP/2 limits and the session life cycle', { timeout: 60_000 }, () => {
  test('SETTINGS carry the stream and header limits; an oversized header block is refused', T, async () => {
    const { server, origin } = await start(() => ({ body: 'ok' }), { http2: { maxConcurrentStreams: 7, maxHeaderListSize: 4096 } });
    const s = connect(origin);
    try {
      const settings = await new Promise<http2.Settings>((resolve) => s.once('remoteSettings', resolve));
      assert.equal(settings.maxConcurrentStreams, 7);
      assert.equal(settings.maxHeaderListSize, 4096);
      const r = s.request({ ':path': '/', 'x-big': 'x'.repeat(3000), 'x-big2': 'y'.repeat(3000) });
      r.on('error', () => {});
      const status = await new Promise<number | string>((resolve) => {
        r.on('response', (h) => resolve(Number(h[':status'])));
        r.on('close', () => resolve(`reset ${r.rstCode}`));
      });
      // nghttp2 enforces the advertised limit itself: the stream is refused before any handler runs.
      assert.equal(status, `reset ${http2.constants.NGHTTP2_ENHANCE_YOUR_CALM}`);
    } finally { s.destroy(); await server.close(1000); }
  });

  test('rapid reset: a client cancelling streams beyond the cap gets GOAWAY ENHANCE_YOUR_CALM', T, async () => {
    const { server, origin } = await start(async () => { await sleep(50); return { body: 'ok' }; }, { http2: { maxResetsPerSecond: 20 } });
    const s = connect(origin);
    try {
      await new Promise((resolve) => s.once('remoteSettings', resolve));
      const goaway = new Promise<number>((resolve) => s.once('goaway', (code) => resolve(code)));
      for (let i = 0; i < 60 && !s.destroyed && !s.closed; i++) {
        const r = s.request({ ':path': '/' });
        r.on('error', () => {});
        r.close(http2.constants.NGHTTP2_CANCEL);
        await sleep(2);
      }
      const code = await Promise.race([goaway, sleep(5000).then(() => -1)]);
      assert.equal(code, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
      // The server itself is fine: a new client is served.
      const ok = await h2get(origin, local.cert, { ':path': '/' });
      assert.equal(ok.status, 200);
    } finally { s.destroy(); await server.close(1000); }
  });

  test('a few cancelled streams are normal and cost nothing', T, async () => {
    const { server, origin } = await start(async () => { await sleep(30); return { body: 'ok' }; }, { http2: { maxResetsPerSecond: 20 } });
    const s = connect(origin);
    try {
      for (let i = 0; i < 10; i++) { const r = s.request({ ':path': '/' }); r.on('error', () => {}); r.close(http2.constants.NGHTTP2_CANCEL); }
      await sleep(200);
      const status = await new Promise<number>((resolve, reject) => {
        const r = s.request({ ':path': '/' });
        r.on('response', (h) => resolve(Number(h[':status'])));
        r.on('error', reject);
        r.resume();
      });
      assert.equal(status, 200);
    } finally { s.close(); await server.close(1000); }
  });

  test('a reset stream aborts req.signal', T, async () => {
    let aborted: () => void;
    const wasAborted = new Promise<void>((r) => (aborted = r));
    const { server, origin } = await start((req) => new Promise((resolve) => {
      req.signal.addEventListener('abort', () => { aborted(); resolve({ body: 'late' }); });
    }));
    const s = connect(origin);
    try {
      const r = s.request({ ':path': '/' });
      r.on('error', () => {});
      await sleep(200);
      r.close(http2.constants.NGHTTP2_CANCEL);
      await Promise.race([wasAborted, sleep(3000).then(() => { throw new Error('signal not aborted'); })]);
    } finally { s.destroy(); await server.close(1000); }
  });

  test('close(): GOAWAY, the open stream finishes, then the session ends', T, async () => {
    const { server, origin } = await start(async () => { await sleep(400); return { body: 'finished' }; });
    const s = connect(origin);
    try {
      const r = s.request({ ':path': '/' });
      r.on('error', () => {});
      const body = new Promise<string>((resolve) => { let b = ''; r.on('data', (d) => (b += d)); r.on('end', () => resolve(b)); });
      const goaway = new Promise<void>((resolve) => s.once('goaway', () => resolve()));
      await sleep(100);
      const t0 = Date.now();
      const closed = server.close(5000);
      await goaway;
      assert.equal(await body, 'finished');
      await closed;
      assert.ok(Date.now() - t0 < 3000, 'close() waited for the deadline instead of the stream');
    } finally { s.destroy(); }
  });

  test('an idle session is closed after idleTimeoutMs; a body that never ends gets 408', T, async () => {
    const { server, origin } = await start(async (req) => ({ body: String((await req.body()).length) }), { requestTimeoutMs: 300, http2: { idleTimeoutMs: 300 } });
    const s = connect(origin);
    try {
      const r = s.request({ ':method': 'POST', ':path': '/' });
      r.on('error', () => {});
      r.write('partial');
      const status = await new Promise<number>((resolve) => r.on('response', (h) => resolve(Number(h[':status']))));
      assert.equal(status, 408);
      const t0 = Date.now();
      await new Promise((resolve) => s.once('close', resolve));
      assert.ok(Date.now() - t0 < 3000);
      for (let i = 0; i < 50 && server.connections > 0; i++) await sleep(20);
      assert.equal(server.connections, 0);
    } finally { s.destroy(); await server.close(1000); }
  });

  test('a client that half-closes its socket with streams in flight does not leave the session behind', T, async () => {
    const { server, origin } = await start(async () => { await sleep(300); return { body: 'late' }; });
    const tls = await import('node:tls');
    try {
      let raw: import('node:tls').TLSSocket | null = null;
      const s = http2.connect(origin, {
        createConnection: () => (raw = tls.connect({ port: server.port, host: '127.0.0.1', servername: 'localhost', ca: local.cert, ALPNProtocols: ['h2'] })),
      });
      s.on('error', () => {});
      for (let i = 0; i < 5; i++) s.request({ ':path': '/' }).on('error', () => {});
      await new Promise((resolve) => s.once('remoteSettings', resolve));
      await sleep(50);
      assert.equal(server.connections, 1);
      raw!.end(); // FIN, as a load generator stopping mid-run does
      for (let i = 0; i < 100 && server.connections > 0; i++) await sleep(20);
      assert.equal(server.connections, 0);
      s.destroy();
    } finally { await server.close(1000); }
  });

  test('onResponse and onError see HTTP/2 exchanges too', T, async () => {
    const records: { path: string; status: number; bodyBytes: number; aborted: boolean; scheme: string }[] = [];
    const errors: unknown[] = [];
    const { server, origin } = await start((req) => {
      if (req.path === '/boom') throw new Error('boom');
      return { body: 'four' };
    }, {
      onResponse: (req, r) => records.push({ path: req.path, scheme: req.scheme, ...r }),
      onError: (err) => errors.push(err),
    });
    try {
      await h2get(origin, local.cert, { ':path': '/ok' });
      await h2get(origin, local.cert, { ':path': '/boom' });
      for (let i = 0; i < 50 && records.length < 2; i++) await sleep(20);
      assert.deepEqual(records, [
        { path: '/ok', scheme: 'https', status: 200, bodyBytes: 4, aborted: false },
        { path: '/boom', scheme: 'https', status: 500, bodyBytes: 22, aborted: false },
      ]);
      assert.equal(errors.length, 1);
      assert.match(String(errors[0]), /boom/);
    } finally { await server.close(1000); }
  });

  test('http2: false serves HTTP/1.1 to a client offering h2', T, async () => {
    const { server, origin } = await start(() => ({ body: 'ok' }), { http2: false });
    try {
      const r = await curl(['--http2', '--cacert', local.certFile, '--resolve', `localhost:${server.port}:127.0.0.1`, '-s', '-o', '/dev/null', '-w', '%{http_version}', `https://localhost:${server.port}/`]);
      assert.equal(r.stdout, '1.1');
      void origin;
    } finally { await server.close(1000); }
  });
});

describe('the TLS front in the library', { timeout: 60_000 }, () => {
  test('failed handshakes are counted by kind in server.tls.errors', T, async () => {
    const { server } = await start(() => ({ body: 'ok' }), { tls: { pairs: { cert: local.cert, key: local.key }, handshakeTimeoutMs: 300 } });
    try {
      const net = await import('node:net');
      const closed = (send: Buffer | string) => new Promise<void>((resolve) => {
        const s = net.connect(server.port, '127.0.0.1', () => s.write(send));
        s.on('error', () => {});
        s.resume(); // read the alert and the FIN
        s.on('close', () => resolve());
      });
      await closed('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await closed(Buffer.from([0x16, 0x03, 0x01])); // then silence: the handshake timeout
      await closed(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5])); // not a ClientHello
      assert.deepEqual(server.tls!.errors, { plainHttp: 1, timeouts: 1, failed: 1 });
    } finally { await server.close(1000); }
  });

  test('the handshake timeout is a deadline: a ClientHello dribbled byte by byte is cut at it', T, async () => {
    const { server } = await start(() => ({ body: 'ok' }), { tls: { pairs: { cert: local.cert, key: local.key }, handshakeTimeoutMs: 800 } });
    try {
      const net = await import('node:net');
      const hello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, ...Array(100).fill(7)]);
      const ms = await new Promise<number>((resolve, reject) => {
        const t0 = Date.now();
        const s = net.connect(server.port, '127.0.0.1');
        let i = 0;
        const drip = setInterval(() => { if (!s.destroyed && i < hello.length) s.write(hello.subarray(i, ++i)); }, 100);
        s.on('error', () => {});
        s.resume();
        s.on('close', () => { clearInterval(drip); resolve(Date.now() - t0); });
        setTimeout(() => { s.destroy(); reject(new Error('still open after 6 s')); }, 6000);
      });
      assert.ok(ms >= 700 && ms < 4000, `closed after ${ms} ms`);
      assert.equal(server.tls!.errors.timeouts, 1);
    } finally { await server.close(1000); }
  });

  test('tls.reload(pairs) swaps the certificate for new connections; a bad pair throws and changes nothing', T, async () => {
    const other = makeCert(dir, 'other', ['localhost', '127.0.0.1']);
    const { server, origin } = await start(() => ({ body: 'ok' }));
    try {
      assert.throws(() => server.tls!.reload({ cert: other.cert, key: local.key }), /the key does not belong to this certificate/);
      assert.equal((await h2get(origin, local.cert, { ':path': '/' })).status, 200);
      server.tls!.reload({ cert: other.cert, key: other.key });
      assert.equal((await h2get(origin, other.cert, { ':path': '/' })).status, 200);
      await assert.rejects(h2get(origin, local.cert, { ':path': '/' }), /self-signed|certificate/);
    } finally { await server.close(1000); }
  });
});
