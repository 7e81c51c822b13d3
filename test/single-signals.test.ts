// Signals to a single process (--workers 1) without TLS: SIGHUP, which means "reload" to a
// server, is a log line and the server goes on serving (its default action would end the process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCli } from './helpers/cli.js';

test('--workers 1 without TLS: SIGHUP is a log line, the server keeps serving', { timeout: 20_000 }, async () => {
  const srv = await startCli(['--workers', '1']);
  try {
    assert.equal((await fetch(srv.url)).status, 200);
    srv.signal('SIGHUP');
    await srv.waitFor(/SIGHUP: nothing to reload in a single process/, 5000);
    const res = await fetch(srv.url, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200, 'still serving after SIGHUP');
    await res.text();
    assert.equal(srv.proc.exitCode, null, 'still running');
  } finally {
    assert.equal(await srv.stop(), 0);
  }
});
