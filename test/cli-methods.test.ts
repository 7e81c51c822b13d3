// --methods: the CLI accepts request methods beyond the known list (the parser's extraMethods);
// without it such a method is 501, with it the request reaches the site (which answers 405 for a
// method a static file does not serve).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCli } from './helpers/cli.js';

async function statusOf(url: string, method: string): Promise<number> {
  const res = await fetch(url, { method, signal: AbortSignal.timeout(5000) });
  await res.arrayBuffer();
  return res.status;
}

test('--methods PURGE: PURGE reaches the site; without the flag it is 501', { timeout: 30_000 }, async () => {
  const plain = await startCli(['--workers', '1']);
  try {
    assert.equal(await statusOf(plain.url, 'PURGE'), 501);
  } finally {
    await plain.stop();
  }
  const srv = await startCli(['--workers', '1', '--methods', 'PURGE,BREW']);
  try {
    assert.equal(await statusOf(srv.url, 'PURGE'), 405, 'parsed and handed to the site, which does not serve it');
    assert.equal(await statusOf(srv.url, 'BREW'), 405);
    assert.equal(await statusOf(srv.url, 'purge'), 501, 'method names are case-sensitive');
    assert.equal(await statusOf(srv.url, 'GET'), 200);
  } finally {
    await srv.stop();
  }
});
