// The task behind GET /work: runs on a spawn() worker thread (src/threads/spawn.ts).
import { threadId } from 'node:worker_threads';

export interface BurnResult {
  /** How long the loop ran, in ms. */
  workedMs: number;
  /** worker_threads.threadId of the thread that ran it (0 would be the main thread). */
  threadId: number;
  /** The process the thread belongs to. */
  pid: number;
  /** Loop iterations, so the work cannot be optimised away. */
  iterations: number;
}

/** Busy-loops for about `ms` milliseconds of CPU time on the calling thread. */
export function burn(ms: number): BurnResult {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > 60_000) {
    throw new RangeError(`burn: ms must be a number from 0 to 60000, got ${String(ms)}`);
  }
  const start = performance.now();
  let iterations = 0;
  let now = start;
  while (now - start < ms) {
    // A little arithmetic between clock reads; the clock read itself is most of the cost.
    for (let i = 0; i < 1000; i++) iterations = (iterations + i * 7) % 1_000_003;
    iterations++;
    now = performance.now();
  }
  return { workedMs: now - start, threadId, pid: process.pid, iterations };
}
