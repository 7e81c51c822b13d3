// `npm run fuzz [-- --seconds N --seed S]`: mutation fuzzing of the parser in a worker (so a hang
// is caught by a watchdog, not waited for), then a differential run against llhttp. Prints counts
// and every finding with the seed and index that reproduce it.
import { Worker } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import { differentialBatch, type Finding } from './engine.js';
import { Llhttp } from './llhttp.js';

const { values } = parseArgs({ options: { seconds: { type: 'string' }, seed: { type: 'string' }, diff: { type: 'string' } } });
const seconds = Number(values.seconds ?? 60);
const seed = Number(values.seed ?? Date.now() % 100000);
const diffShare = Number(values.diff ?? 0.3); // share of the time spent on the differential run

console.log(`fuzz: seed ${seed}, ${seconds}s (${Math.round((1 - diffShare) * 100)}% mutation, ${Math.round(diffShare * 100)}% differential)`);

function report(f: Finding): void {
  console.log(`  [${f.kind}] ${f.key} (seed ${f.seed}, index ${f.index}): ${JSON.stringify(f.input).slice(0, 300)}\n      ${f.detail.slice(0, 400)}`);
}

// ---- mutation, in a worker with a watchdog
const mutationMs = seconds * 1000 * (1 - diffShare);
const progress = new Int32Array(new SharedArrayBuffer(8)); // [current index, done]
const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { seed, ms: mutationMs, progress } });
const findings: Finding[] = [];
let inputs = 0;
await new Promise<void>((resolve) => {
  let last = -1;
  let still = 0;
  const watchdog = setInterval(() => {
    const k = Atomics.load(progress, 0);
    if (k === last) {
      if (++still >= 5) {
        findings.push({ kind: 'crash', key: 'hang (no progress for 5 s)', seed, index: k, input: '(see index)', detail: '' });
        void worker.terminate();
      }
    } else { last = k; still = 0; }
  }, 1000);
  worker.on('message', (m: { findings: Finding[]; inputs: number }) => { findings.push(...m.findings); inputs = m.inputs; });
  worker.on('error', (err) => { findings.push({ kind: 'crash', key: `worker died: ${err.message}`, seed, index: Atomics.load(progress, 0), input: '', detail: '' }); });
  worker.on('exit', () => { clearInterval(watchdog); resolve(); });
});
const byKind = (k: string) => findings.filter((f) => f.kind === k).length;
console.log(`mutation: ${inputs} inputs, each whole, split at random points and (up to 4 KiB) byte by byte`);
console.log(`  crashes or hangs: ${byKind('crash')}, split-dependent outcomes: ${byKind('split')}`);
for (const f of findings.slice(0, 20)) report(f);

// ---- differential, against node:http's llhttp over loopback
const ll = new Llhttp();
await ll.start();
const diffEnd = Date.now() + seconds * 1000 * diffShare;
const total = { inputs: 0, same: 0, stricter: new Map<string, number>(), judged: new Map<string, number>(), unjudged: [] as Finding[] };
let k = 10_000_000; // a different range of inputs from the mutation run
while (Date.now() < diffEnd) {
  const c = await differentialBatch(ll, seed, k, k + 400);
  k += 400;
  total.inputs += c.inputs;
  total.same += c.same;
  for (const [key, n] of c.stricter) total.stricter.set(key, (total.stricter.get(key) ?? 0) + n);
  for (const [key, n] of c.judged) total.judged.set(key, (total.judged.get(key) ?? 0) + n);
  total.unjudged.push(...c.unjudged);
}
await ll.close();
console.log(`differential: ${total.inputs} inputs; same outcome ${total.same}`);
console.log(`  sluice stricter (refuses what llhttp accepts), by sluice's reason:`);
for (const [key, n] of [...total.stricter].sort((a, b) => b[1] - a[1])) console.log(`    ${String(n).padStart(6)}  ${key}`);
console.log(`  sluice accepts what llhttp refuses, judged classes (docs/FUZZING.md):`);
for (const [key, n] of [...total.judged].sort((a, b) => b[1] - a[1])) console.log(`    ${String(n).padStart(6)}  ${key}`);
console.log(`  NOT judged (sluice accepts what llhttp refuses, or frames it differently): ${total.unjudged.length}`);
const shown = new Set<string>();
for (const f of total.unjudged) {
  if (shown.has(f.key) && shown.size > 30) continue;
  shown.add(f.key);
  report(f);
}
const bad = findings.length + total.unjudged.length;
process.exitCode = bad > 0 ? 1 : 0;
