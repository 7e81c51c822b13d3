// The idle-memory scenario of the benchmark harness (bench/scenarios/idle-memory.ts), small: 300
// connections, one round. Checks that it runs end to end and measures all three servers with
// figures that make sense (an HTTP server holds more than a bare socket; nothing is negative).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runHarness } from './helpers/bench.js';
import { IDLE_MEMORY_ID } from '../bench/scenarios/idle-memory.js';

interface Result { scenarios: { id: string; kind: string; servers: { server: string; status: string; notes: string[]; summary: Record<string, { median: number }> }[] }[] }

test('bench scenario 10 measures idle-connection memory of sluice, node:http and bare sockets', { timeout: 90_000 }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-memory-test-'));
  const { code, output } = await runHarness(['--scenarios', IDLE_MEMORY_ID, '--rounds', '1', '--sleep-connections', '300', '--no-docs', '--no-nginx', '--out', out], 80_000);
  try {
    assert.equal(code, 0, `harness failed:\n${output}`);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'latest.json'), 'utf8')) as Result;
    const sc = res.scenarios.find((s) => s.id === IDLE_MEMORY_ID);
    assert.ok(sc, 'scenario 10 is in the results');
    assert.equal(sc.kind, 'memory');
    const heap = (name: string) => {
      const r = sc.servers.find((s) => s.server === name);
      assert.ok(r && r.status === 'ok', `${name}: ${JSON.stringify(r)}`);
      return r.summary.heapKibPerConn!.median;
    };
    const bare = heap('net (no HTTP)');
    assert.ok(bare > 0.2 && bare < 5, `a bare socket: ${bare} KiB`);
    assert.ok(heap('sluice') > bare, 'sluice holds more than a bare socket');
    assert.ok(heap('node:http') > bare, 'so does node:http');
    assert.match(output, /heap KiB\/conn/);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
