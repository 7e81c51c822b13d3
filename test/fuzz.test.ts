// A short, seeded run of the fuzzer (npm run fuzz runs it for minutes): mutated requests through
// the parser in a worker thread with a deadline (a hang fails the test instead of stalling it),
// each whole, split at random points and byte by byte; then a differential run against
// node:http's llhttp where every input sluice accepts and llhttp refuses must be a judged class.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { differentialBatch, mutationBatch, type Finding } from '../fuzz/engine.js';
import { Llhttp } from '../fuzz/llhttp.js';
import { runSluice } from '../fuzz/sluice.js';
import { compare } from '../fuzz/compare.js';
import { judge } from '../fuzz/judged.js';
import { MALFORMED } from '../fuzz/corpus.js';

const SEED = 20_240_601;
const show = (fs: Finding[]) => fs.slice(0, 5).map((f) => `${f.kind} ${f.key}: ${JSON.stringify(f.input).slice(0, 200)} → ${f.detail}`).join('\n');

test('mutation: no crash, no hang, and the same outcome however the input is split', async () => {
  const count = 4000;
  const progress = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(new URL('../fuzz/worker.js', import.meta.url), { workerData: { seed: SEED, count, progress } });
  const result = await new Promise<{ findings: Finding[]; inputs: number }>((resolve, reject) => {
    // generous: the run takes about a second on an idle machine
    const deadline = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`hang: no result after 60 s, at input ${Atomics.load(progress, 0)} of seed ${SEED}`));
    }, 60_000);
    worker.once('message', (m) => { clearTimeout(deadline); resolve(m); });
    worker.once('error', (err) => { clearTimeout(deadline); reject(err); });
  });
  await worker.terminate();
  assert.equal(result.inputs, count);
  assert.deepEqual(result.findings, [], show(result.findings));
});

test('the checks are not vacuous: a parser that loses bytes, or accepts what llhttp refuses, is reported', () => {
  // a stand-in that drops the last read when the input is split
  const lossy = (pieces: Buffer[]) => runSluice(pieces.length > 1 ? pieces.slice(0, -1) : pieces);
  const found = mutationBatch(SEED, 0, 50, undefined, lossy);
  assert.ok(found.some((f) => f.kind === 'split'), 'split dependence is reported');
  const accepted = runSluice([Buffer.from('GET / HTTP/1.1\r\nHost: h\r\n\r\n')]);
  const v = compare(accepted, { messages: [], end: 'error', code: 'HPE_INVALID_METHOD' });
  assert.equal(v.kind, 'laxer');
  assert.equal(judge(v, Buffer.from('GET / HTTP/1.1\r\nHost: h\r\n\r\n')), null, 'and not judged correct');
});

test('corpus: every malformed input is an error whose status does not depend on the split', () => {
  for (const [what, input, status] of MALFORMED) {
    const bytes = Buffer.from(input, 'latin1');
    for (let i = 1; i < bytes.length; i += Math.max(1, Math.floor(bytes.length / 200))) {
      const o = runSluice([bytes.subarray(0, i), bytes.subarray(i)]);
      assert.equal(o.status, status, `${what}: split at ${i} gives ${o.status}`);
    }
  }
});

test('differential against llhttp: sluice accepts nothing llhttp refuses beyond the judged classes', async () => {
  const ll = new Llhttp();
  await ll.start();
  try {
    const c = await differentialBatch(ll, SEED, 1_000_000, 1_000_400);
    assert.equal(c.inputs, 400);
    assert.deepEqual(c.unjudged, [], show(c.unjudged));
    assert.ok(c.same > 300, `most inputs get the same outcome from both (${c.same} of 400)`);
  } finally {
    await ll.close();
  }
});
