// Past the concurrency limit and the queue, over TLS: an HTTP/1.1 client gets the 503 with
// Retry-After; a client that chose h2 by ALPN gets a closed connection, never HTTP/1.1 text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { serveTls, tempCert } from './helpers/tls.js';

/** Opens a TLS connection offering `alpn`, sends `send`, returns everything read until the close (deadline 5 s). */
function exchange(port: number, ca: Buffer, alpn: string[], send: string | Buffer): Promise<{ alpn: string | false; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca, ALPNProtocols: alpn }, () => { s.write(send); });
    const t = setTimeout(() => { s.destroy(); reject(new Error(`no close within 5 s; read ${Buffer.concat(chunks).length} bytes`)); }, 5000);
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', () => {});
    s.on('close', () => { clearTimeout(t); resolve({ alpn: s.alpnProtocol ?? false, bytes: Buffer.concat(chunks) }); });
  });
}

test('TLS, concurrency and queue full: 503 for HTTP/1.1, a plain close for h2', { timeout: 30_000 }, async () => {
  const certs = tempCert('sluice-busy-tls-');
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const { server } = await serveTls(async () => { await held; return { body: 'late' }; }, certs.local, { concurrency: 1, queue: 0 });
  const first = tls.connect({ port: server.port, host: '127.0.0.1', servername: 'localhost', ca: certs.local.cert, ALPNProtocols: ['http/1.1'] });
  first.on('error', () => {});
  try {
    await new Promise<void>((r) => first.once('secureConnect', () => r()));
    first.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'); // takes the one slot and holds it
    for (const end = Date.now() + 3000; server.connections < 1 && Date.now() < end;) await new Promise((r) => setTimeout(r, 10));
    assert.equal(server.connections, 1);

    const h1 = await exchange(server.port, certs.local.cert, ['http/1.1'], 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    assert.equal(h1.alpn, 'http/1.1');
    assert.match(h1.bytes.toString('latin1'), /^HTTP\/1\.1 503 Service Unavailable\r\n[\s\S]*Retry-After: 1\r\n/);

    const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
    const h2 = await exchange(server.port, certs.local.cert, ['h2', 'http/1.1'], PREFACE);
    assert.equal(h2.alpn, 'h2');
    assert.equal(h2.bytes.length, 0, `nothing written to the h2 client: ${JSON.stringify(h2.bytes.toString('latin1').slice(0, 40))}`);
    assert.ok(server.rejected >= 2, `both counted as rejected (${server.rejected})`);
  } finally {
    release();
    first.destroy();
    await server.close(2000);
    certs.cleanup();
  }
});
