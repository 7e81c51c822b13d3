// The mutation loop in a worker thread: it publishes the index it is on, so the main thread can
// tell a hang from slow progress, and posts its findings at the end.
import { parentPort, workerData } from 'node:worker_threads';
import { mutationBatch, type Finding } from './engine.js';

const { seed, ms, progress, count } = workerData as { seed: number; ms?: number; count?: number; progress: Int32Array };
const end = Date.now() + (ms ?? 0);
const findings: Finding[] = [];
let k = 0;
const step = 500;
while (count !== undefined ? k < count : Date.now() < end) {
  const to = count !== undefined ? Math.min(count, k + step) : k + step;
  findings.push(...mutationBatch(seed, k, to, (i) => Atomics.store(progress, 0, i)));
  k = to;
}
parentPort!.postMessage({ findings, inputs: k });
