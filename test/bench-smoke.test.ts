// The benchmark harness in --smoke mode: one 1 s scenario (GET / keep-alive) against sluice and the
// node:http baseline, with whichever load generator is installed (wrk, else autocannon), results in a
// temp dir. Checks that the harness runs end to end and that what it writes is a well-formed result
// for both servers: the JSON parses, one round each with sane fields (requests counted, latencies
// ordered p50 <= p99 <= max, errors counted as whole numbers), the summary is that round, and the
// machine section names the Node it ran on. Never a speed threshold: the machine may be loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runHarness } from './helpers/bench.js';
import type { BenchResults, ServerResult } from '../bench/results.js';

const count = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 0;

function checkServer(r: ServerResult, output: string): void {
  assert.equal(r.status, 'ok', `${r.server}: ${r.notes.join('; ')}\n${output}`);
  assert.equal(r.rounds.length, 1, `${r.server}: one round`);
  const round = r.rounds[0]!;
  for (const k of ['rps', 'p50', 'p99', 'max', 'requests', 'errors', 'timeouts', 'socketErrors', 'non2xx']) {
    assert.ok(typeof round[k] === 'number' && Number.isFinite(round[k]), `${r.server}: ${k} is a number (${round[k]})`);
  }
  assert.ok(round.requests! > 0 && Number.isInteger(round.requests), `${r.server}: requests counted`);
  assert.ok(round.rps! > 0, `${r.server}: req/s from the requests counted`);
  assert.ok(round.p50! > 0 && round.p50! <= round.p99! && round.p99! <= round.max!,
    `${r.server}: latencies ordered 0 < p50 <= p99 <= max (${round.p50}, ${round.p99}, ${round.max})`);
  for (const k of ['errors', 'timeouts', 'socketErrors', 'non2xx']) assert.ok(count(round[k]), `${r.server}: ${k} is a count`);
  assert.equal(round.errors, round.timeouts! + round.socketErrors!, `${r.server}: errors = timeouts + socket errors`);
  assert.equal(round.non2xx, 0, `${r.server}: every answer 2xx`);
  assert.equal(r.summary.rps?.median, round.rps, `${r.server}: the summary is the one round`);
  assert.equal(r.summary.p99?.max, round.p99);
}

test('npm run bench -- --smoke writes a well-formed result for sluice and node:http', { timeout: 30_000 }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-smoke-test-'));
  // Its own process group: if the harness hangs, one kill takes it and every server it started.
  const { code, output } = await runHarness(['--smoke', '--out', out], 25_000);
  try {
    assert.equal(code, 0, `harness failed:\n${output}`);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'latest.json'), 'utf8')) as BenchResults;
    assert.equal(results.mode, 'smoke');
    assert.equal(results.machine.node, process.version, 'the machine section names the Node that ran');
    assert.ok(results.machine.cores >= 1);
    assert.deepEqual(results.scenarios.map((s) => s.id), ['1'], 'only scenario 1 in smoke mode');
    const sc = results.scenarios[0]!;
    assert.equal(sc.kind, 'rps');
    assert.deepEqual(sc.servers.map((s) => s.server).sort(), ['node:http', 'sluice']);
    for (const r of sc.servers) checkServer(r, output);
    assert.ok(sc.ratios['sluice/node:http']! > 0, 'the ratio of the two medians');
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
