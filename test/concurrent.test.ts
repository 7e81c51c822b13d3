// forEachConcurrent: at most `limit` calls in flight, items pulled only when a slot frees,
// completion after every call settles, and the first error thrown after the others finish.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { forEachConcurrent } from '../src/server/concurrent.js';

/** An async source that records how many items were pulled. */
function source(n: number) {
  const state = { pulled: 0, returned: false };
  const iterable: AsyncIterable<number> = {
    [Symbol.asyncIterator]() {
      return {
        next: async () => (state.pulled < n ? { value: state.pulled++, done: false } : { value: undefined, done: true }),
        return: async () => { state.returned = true; return { value: undefined, done: true }; },
      };
    },
  };
  return { iterable, state };
}

test('never more than `limit` calls in flight, and the limit is reached', async () => {
  const { iterable } = source(40);
  let inFlight = 0;
  let peak = 0;
  const done: number[] = [];
  await forEachConcurrent(iterable, 4, async (i) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await sleep(1 + (i % 3));
    inFlight--;
    done.push(i);
  });
  assert.equal(peak, 4);
  assert.equal(done.length, 40);
  assert.deepEqual([...done].sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i));
});

test('items are pulled only when a slot frees (back-pressure on the source)', async () => {
  const { iterable, state } = source(10);
  const release: (() => void)[] = [];
  const run = forEachConcurrent(iterable, 2, () => new Promise<void>((r) => release.push(r)));
  await sleep(20);
  assert.equal(state.pulled, 2, 'two slots, two items taken');
  release.shift()!();
  for (const end = Date.now() + 5000; state.pulled < 3 && Date.now() < end;) await sleep(2);
  await sleep(20);
  assert.equal(state.pulled, 3, 'one slot freed, one more item, and no more');
  while (state.pulled < 10 || release.length > 0) {
    release.shift()?.();
    await sleep(1);
  }
  await run;
});

test('resolves only after every call has settled', async () => {
  const { iterable } = source(5);
  const settled: number[] = [];
  await forEachConcurrent(iterable, 10, async (i) => {
    await sleep(30 - i * 5);
    settled.push(i);
  });
  assert.equal(settled.length, 5, 'all five settled before the promise resolved');
});

test('unbounded when the limit is undefined', async () => {
  const { iterable } = source(25);
  let inFlight = 0;
  let peak = 0;
  await forEachConcurrent(iterable, undefined, async () => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await sleep(10);
    inFlight--;
  });
  assert.equal(peak, 25);
});

test('a failing call stops the pulling, lets the others finish, then throws the first error', async () => {
  const { iterable, state } = source(100);
  const finished: number[] = [];
  const err = await forEachConcurrent(iterable, 3, async (i) => {
    if (i === 4) throw new Error('boom 4');
    if (i === 5) { await sleep(5); throw new Error('boom 5'); }
    await sleep(20);
    finished.push(i);
  }).catch((e: Error) => e);
  assert.ok(err instanceof Error);
  assert.equal(err.message, 'boom 4', 'the first error');
  assert.ok(state.pulled < 100, `stopped pulling (pulled ${state.pulled})`);
  assert.equal(state.returned, true, 'the source was told to stop (return())');
  for (const i of [0, 1, 2, 3]) assert.ok(finished.includes(i), `call ${i}, already running, finished`);
});

test('a call that throws synchronously is an error like a rejection', async () => {
  const { iterable } = source(3);
  await assert.rejects(forEachConcurrent(iterable, 2, (i) => { if (i === 1) throw new Error('sync'); return Promise.resolve(); }), /sync/);
});

test('an invalid limit is a RangeError', async () => {
  const { iterable } = source(1);
  await assert.rejects(forEachConcurrent(iterable, 0, async () => {}), RangeError);
  await assert.rejects(forEachConcurrent(iterable, Number.NaN, async () => {}), RangeError);
});

test('a Completion (whenDone) holds its slot until it calls back, like a promise, with none made', async () => {
  const { iterable, state } = source(6);
  const callbacks: (() => void)[] = [];
  let inFlight = 0;
  let peak = 0;
  const run = forEachConcurrent(iterable, 2, () => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    return { whenDone: (cb: () => void) => { callbacks.push(() => { inFlight--; cb(); }); } };
  });
  await sleep(20);
  assert.equal(state.pulled, 2, 'two slots taken by two completions not yet done');
  let settled = false;
  void run.then(() => { settled = true; });
  while (state.pulled < 6 || callbacks.length > 0) {
    callbacks.shift()?.();
    await sleep(2);
  }
  await run;
  assert.equal(settled, true);
  assert.equal(peak, 2);
});

test('a Completion that is already done (calls back at once) frees its slot at once', async () => {
  const { iterable } = source(50);
  let calls = 0;
  await forEachConcurrent(iterable, 1, () => ({ whenDone: (cb: () => void) => { calls++; cb(); } }));
  assert.equal(calls, 50);
});
