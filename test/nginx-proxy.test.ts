// sluice behind a real nginx reverse proxy (the docs/DEPLOY.md recipe): X-Forwarded-For/-Host
// believed with --trust-proxy, a spoofed X-Forwarded-For ignored, and the upstream keep-alive
// pool surviving a SIGTERMed instance without a failed request.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { distDir, startCli, startScript, type Running } from './helpers/cli.js';
import { getJson, startLoad } from './helpers/load.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePorts } from './helpers/ports.js';

interface Seen { remoteAddress: string; scheme: string; host: string; xForwardedFor: string | null }

const PROXY_HEADERS = `
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host backend.internal;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;`;

const skip = nginxMissing;
if (skip) console.log(`# skipping the nginx tests: ${skip}`);

describe('behind nginx (X-Forwarded-For, upstream keep-alive)', { skip: skip ?? undefined, timeout: 60_000 }, () => {
  let nginx: Nginx;
  let whoami: Running;
  const sites: Running[] = [];
  let fe = 0;
  let siteFe = 0;
  let whoamiPort = 0;

  before(async () => {
    const [a, b, c, s1, s2] = await freePorts(5);
    fe = a!; siteFe = b!; whoamiPort = c!;
    whoami = await startScript(path.join(distDir, 'test', 'fixtures', 'proxy', 'whoami.js'), ['--port', String(whoamiPort), '--trust-proxy', '127.0.0.1']);
    for (const port of [s1!, s2!]) {
      sites.push(await startCli(['--workers', '1', '--port', String(port), '--trust-proxy', '127.0.0.1', '--keep-alive-timeout', '30000', '--shutdown-timeout', '3000']));
    }
    nginx = await startNginx(`
  upstream whoami { server 127.0.0.1:${whoamiPort}; keepalive 8; }
  upstream site {
    server 127.0.0.1:${s1};
    server 127.0.0.1:${s2};
    keepalive 16;
    keepalive_timeout 20s;
  }
  server {
    listen 127.0.0.1:${fe};
    location / { proxy_pass http://whoami; ${PROXY_HEADERS} }
  }
  server {
    listen 127.0.0.1:${siteFe};
    location / { proxy_pass http://site; proxy_next_upstream error timeout; ${PROXY_HEADERS} }
  }`, fe);
  });

  after(async () => {
    await nginx?.stop();
    await whoami?.stop();
    await Promise.all(sites.map((s) => s.stop()));
  });

  test('the handler sees the client\'s address and the original host from nginx\'s X-Forwarded-* (--trust-proxy 127.0.0.1)', async () => {
    const seen = await getJson<Seen>({ port: fe, localAddress: '127.0.0.2', headers: { Host: 'shop.example' } });
    assert.equal(seen.remoteAddress, '127.0.0.2');
    assert.equal(seen.xForwardedFor, '127.0.0.2', 'nginx wrote it');
    assert.equal(seen.host, 'shop.example', 'X-Forwarded-Host, not the Host nginx sent upstream');
    assert.equal(seen.scheme, 'http');
  });

  test('a spoofed X-Forwarded-For: through nginx the right-most untrusted hop wins; sent directly, it is ignored', async () => {
    const via = await getJson<Seen>({ port: fe, localAddress: '127.0.0.2', headers: { 'X-Forwarded-For': '6.6.6.6', 'X-Forwarded-Host': 'evil.example' } });
    assert.equal(via.xForwardedFor, '6.6.6.6, 127.0.0.2');
    assert.equal(via.remoteAddress, '127.0.0.2');
    const direct = await getJson<Seen>({ port: whoamiPort, localAddress: '127.0.0.2', headers: { Host: 'direct.example', 'X-Forwarded-For': '6.6.6.6', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'evil.example' } });
    assert.deepEqual({ ...direct, xForwardedFor: null }, { remoteAddress: '127.0.0.2', scheme: 'http', host: 'direct.example', xForwardedFor: null },
      'from an untrusted peer (127.0.0.2) the fields are ordinary headers');
  });

  test('SIGTERM to one of two upstream instances under keep-alive load: 0 failed requests', async (t) => {
    const load = startLoad({ port: siteFe, concurrency: 8 });
    await delay(700);
    const code = await sites[0]!.stop();
    await delay(700);
    const r = await load.stop();
    t.diagnostic(`${r.ok} requests ok, ${r.failed} failed`);
    assert.equal(code, 0);
    assert.equal(r.failed, 0, r.errors.join('; '));
    assert.ok(r.ok > 200, `a steady stream went through (${r.ok})`);
  });
});
