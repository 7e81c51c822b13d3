// The CLI where the layers meet: a real HAProxy in TCP mode sending PROXY v2 to a TLS sluice
// (HTTP/1.1 and HTTP/2 behind it), the access log of HTTP/2 requests, --workers 2 with TLS and
// the PROXY protocol, and the start-up lines of an HTTPS server on every interface.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { lanLines } from '../src/cli/port.js';
import { haproxyMissing, startHaproxy } from './helpers/haproxy.js';
import { cliPath, startScript } from './helpers/cli.js';
import { curl } from './helpers/net.js';
import { freePorts } from './helpers/ports.js';
import { startTlsCli } from './helpers/tls.js';

const T = { timeout: 45_000 };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-int-cli-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The log's lines once it has at least `n` of them (deadline `ms`): lines are written after the response. */
async function logLines(file: string, n: number, ms = 5000): Promise<string[]> {
  const until = Date.now() + ms;
  for (;;) {
    const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    if (lines.length >= n || Date.now() > until) return lines;
    await delay(50);
  }
}

describe('HAProxy (TCP mode, send-proxy-v2) in front of sluice --tls-self-signed --proxy-protocol', T, () => {
  test('the handler sees the client HAProxy saw, over HTTP/1.1 and HTTP/2', { skip: haproxyMissing ?? false }, async () => {
    const log = path.join(dir, 'haproxy.jsonl');
    const [fe, be] = await freePorts(2);
    const srv = await startTlsCli(['--workers', '1', '--tls-self-signed', '--proxy-protocol', '--port', String(be), '--access-log', log, '--log-format', 'json']);
    const hap = await startHaproxy(`global
  stats socket $SOCKET level admin
defaults
  mode tcp
  timeout connect 2s
  timeout client 10s
  timeout server 10s
frontend tls_in
  bind 127.0.0.1:${fe}
  default_backend sluice
backend sluice
  server s1 127.0.0.1:${be} send-proxy-v2
`, fe);
    try {
      // The client connects from 127.0.0.3; HAProxy reaches sluice from 127.0.0.1.
      const h1 = await curl(['-sk', '--interface', '127.0.0.3', '--http1.1', '-o', '/dev/null', '-w', '%{http_code} %{http_version}', `https://127.0.0.1:${fe}/?one`]);
      assert.equal(h1.stdout, '200 1.1', h1.stderr);
      const h2 = await curl(['-sk', '--interface', '127.0.0.3', '--http2', '-o', '/dev/null', '-w', '%{http_code} %{http_version}', `https://127.0.0.1:${fe}/?two`]);
      assert.equal(h2.stdout, '200 2', h2.stderr);
      const lines = (await logLines(log, 2)).map((l) => JSON.parse(l));
      assert.deepEqual(lines.map((l) => [l.remote_addr, l.target, l.protocol]), [
        ['127.0.0.3', '/?one', 'HTTP/1.1'],
        ['127.0.0.3', '/?two', 'HTTP/2.0'],
      ]);
    } finally {
      await hap.stop();
      await srv.stop();
    }
  });
});

describe('the access log of HTTP/2 requests', T, () => {
  test('combined: "GET /target HTTP/2.0", the status and the body bytes, as nginx writes it', async () => {
    const log = path.join(dir, 'combined.log');
    const srv = await startTlsCli(['--workers', '1', '--tls-self-signed', '--access-log', log]);
    try {
      const ok = await curl(['-sk', '--http2', '-o', '/dev/null', '-w', '%{http_code} %{size_download} %{http_version}', '-A', 'int-test', `${srv.url}/?q=1`]);
      const [status, size, version] = ok.stdout.split(' ');
      assert.equal(`${status} ${version}`, '200 2');
      const missing = await curl(['-sk', '--http2', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'DELETE', `${srv.url}/no/such/page`]);
      const [first, second] = await logLines(log, 2);
      assert.match(first!, new RegExp(`^127\\.0\\.0\\.1 - - \\[[^\\]]+\\] "GET /\\?q=1 HTTP/2\\.0" 200 ${size} "-" "int-test"$`));
      assert.match(second!, new RegExp(`"DELETE /no/such/page HTTP/2\\.0" ${missing.stdout} \\d+ `));
    } finally { await srv.stop(); }
  });
});

describe('sluice --workers 2 --tls-self-signed --proxy-protocol', { timeout: 60_000 }, () => {
  test('every worker reads the preamble before the handshake (curl --haproxy-protocol, h1 and h2)', async () => {
    const log = path.join(dir, 'workers.jsonl');
    const srv = await startTlsCli(['--workers', '2', '--tls-self-signed', '--proxy-protocol', '--access-log', log, '--log-format', 'json'], 25_000);
    try {
      for (let i = 0; i < 4; i++) {
        const version = i % 2 === 0 ? '--http1.1' : '--http2';
        const r = await curl(['-sk', '--haproxy-protocol', version, '-o', '/dev/null', '-w', '%{http_code}', `${srv.url}/?r${i}`]);
        assert.equal(r.stdout, '200', r.stderr);
      }
      // Without a preamble the connection is closed before any TLS or HTTP.
      const bare = await curl(['-sk', '--max-time', '5', `${srv.url}/bare`]);
      assert.notEqual(bare.code, 0);
      const lines = (await logLines(log, 4)).map((l) => JSON.parse(l));
      assert.deepEqual(lines.map((l) => l.target).sort(), ['/?r0', '/?r1', '/?r2', '/?r3']);
      assert.ok(lines.every((l) => l.remote_addr === '127.0.0.1' && l.status === 200));
    } finally { await srv.stop(); }
  });
});

describe('sluice --tls-self-signed --proxy-protocol --redirect-http', T, () => {
  test('the redirect port expects the preamble too, as every connection does', async () => {
    const [port, plain] = await freePorts(2);
    const srv = await startTlsCli(['--workers', '1', '--tls-self-signed', '--proxy-protocol', '--port', String(port), '--redirect-http', String(plain)]);
    try {
      const r = await curl(['-s', '-i', '--haproxy-protocol', `http://127.0.0.1:${plain}/p?q=1`]);
      assert.match(r.stdout, /^HTTP\/1\.1 308 /);
      assert.match(r.stdout, new RegExp(`\r\nLocation: https://127\\.0\\.0\\.1:${port}/p\\?q=1\r\n`));
      const bare = await curl(['-s', '-i', '--max-time', '5', `http://127.0.0.1:${plain}/p`]);
      assert.doesNotMatch(bare.stdout, /308/);
    } finally { await srv.stop(); }
  });
});

describe('start-up lines with TLS', T, () => {
  test('lanLines gives https:// URLs for an HTTPS server', () => {
    const lines = lanLines('0.0.0.0', 8443, 'https');
    assert.ok(lines.length >= 2);
    for (const l of lines) assert.doesNotMatch(l, /http:\/\//);
    assert.equal(lines[0], '  on this machine: https://localhost:8443/');
  });

  test('sluice --tls-self-signed --host 0.0.0.0 --redirect-http: https:// everywhere, the redirect port named', async () => {
    const [port, plain] = await freePorts(2);
    // startScript waits for an http:// URL: here the admin line, printed after the others.
    const srv = await startScript(cliPath, ['--workers', '1', '--tls-self-signed', '--host', '0.0.0.0', '--port', String(port), '--redirect-http', String(plain), '--admin', '0']);
    try {
      const out = srv.output();
      assert.match(out, /sluice admin on http:\/\/127\.0\.0\.1:\d+\//);
      assert.match(out, new RegExp(`listening on https://0\\.0\\.0\\.0:${port}/ \\(.*; plain HTTP on port ${plain} redirects here\\)`));
      assert.match(out, new RegExp(`on this machine: https://localhost:${port}/`));
      assert.doesNotMatch(out.split('\n').filter((l) => l.includes('on your network')).join('\n'), /http:\/\//);
    } finally { await srv.stop(); }
  });
});
