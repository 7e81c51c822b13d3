// The admin listener: liveness and readiness over real sockets, in a single process and under a
// cluster primary, and readiness turning 503 the moment a drain starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { adminUrl, startCli } from './helpers/cli.js';


const get = (url: string) => fetch(url, { signal: AbortSignal.timeout(5_000) });

for (const workers of ['1', '2']) {
  test(`--admin with --workers ${workers}: /healthz 200, /readyz 200 while serving and 503 once SIGTERM starts a drain`, { timeout: 30_000 }, async () => {
    const srv = await startCli(['--workers', workers, '--admin', '0', '--sleep-ms', '1500']);
    try {
      const admin = await adminUrl(srv.output);
      assert.match(admin, /^http:\/\/127\.0\.0\.1:\d+$/, 'bound to loopback by default');
      assert.equal((await get(`${admin}/healthz`)).status, 200);
      const ready = await get(`${admin}/readyz`);
      assert.equal(ready.status, 200);
      assert.equal(await ready.text(), 'ready\n');
      // An in-flight request keeps the drain going long enough to look at readiness during it.
      const slow = get(`${srv.url}/sleep`);
      await delay(200);
      srv.proc.kill('SIGTERM');
      let status = 0;
      for (let i = 0; i < 50 && status !== 503; i++) {
        await delay(20);
        status = (await get(`${admin}/readyz`)).status;
      }
      assert.equal(status, 503, '/readyz is 503 while draining');
      assert.equal((await get(`${admin}/healthz`)).status, 200, 'still alive while draining');
      assert.equal((await slow).status, 200, 'the in-flight request finishes');
      assert.equal(await srv.exited, 0);
    } finally {
      await srv.stop();
    }
  });
}
