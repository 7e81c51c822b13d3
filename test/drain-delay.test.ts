// --drain-delay: after SIGTERM the process reports not-ready at once but serves as usual (new
// connections, keep-alive kept) until the delay is over; then it drains and exits. A second
// signal skips the rest of the delay. Single process and under a cluster primary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { adminUrl, startCli } from './helpers/cli.js';
import { RawClient } from './helpers/net.js';

const DELAY_MS = 2500;

const readyz = async (admin: string) => (await fetch(`${admin}/readyz`, { signal: AbortSignal.timeout(3000) })).status;
const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';

for (const workers of ['1', '2']) {
  test(`--workers ${workers} --drain-delay: not ready at once, serving normally during the delay, draining after it`, { timeout: 30_000 }, async () => {
    const srv = await startCli(['--workers', workers, '--admin', '0', '--drain-delay', String(DELAY_MS)]);
    const kept = new RawClient(srv.port);
    try {
      const admin = await adminUrl(srv.output);
      assert.equal(await readyz(admin), 200);
      await kept.connected;
      kept.send(GET);
      await kept.until((o) => o.includes('</html>'));
      const sent = Date.now();
      srv.proc.kill('SIGTERM');
      let status = 200;
      while (status === 200 && Date.now() - sent < 1000) { await delay(20); status = await readyz(admin); }
      assert.equal(status, 503, '/readyz turned 503 within a second of SIGTERM');

      // Within the delay: a new connection is served without Connection: close, and so is the kept one.
      const fresh = await fetch(`${srv.url}/`, { signal: AbortSignal.timeout(3000) });
      assert.equal(fresh.status, 200);
      assert.notEqual(fresh.headers.get('connection'), 'close');
      await fresh.text();
      const before = kept.output.length;
      kept.send(GET);
      const second = (await kept.until((o) => o.length > before && o.endsWith('</html>\n'))).slice(before);
      assert.match(second, /^HTTP\/1\.1 200 /);
      assert.doesNotMatch(second, /connection: close/i);
      assert.ok(Date.now() - sent < DELAY_MS - 300, 'those were answered inside the delay');

      // After it: the idle keep-alive connection is closed, and the process exits 0.
      await kept.until((_o, closed) => closed, DELAY_MS + 5000);
      assert.ok(Date.now() - sent >= DELAY_MS - 100, `closed after the delay (${Date.now() - sent} ms)`);
      assert.equal(await srv.exited, 0);
      assert.match(srv.output(), /not ready; serving 2\.5 s more before draining|not ready; serving 2500 ms more before draining/);
    } finally {
      kept.close();
      await srv.stop();
    }
  });

  test(`--workers ${workers}: a second SIGTERM during the drain delay drains at once`, { timeout: 30_000 }, async () => {
    const srv = await startCli(['--workers', workers, '--drain-delay', '60000']);
    try {
      srv.proc.kill('SIGTERM');
      await delay(300);
      const second = Date.now();
      srv.proc.kill('SIGTERM');
      assert.equal(await srv.exited, 0);
      assert.ok(Date.now() - second < 10_000, 'exited well before the 60 s delay');
    } finally {
      await srv.stop();
    }
  });
}
