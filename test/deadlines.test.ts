// The timer wheel (src/http/h1/deadlines.ts): deadlines fire not before they are due and not much
// after, moving one is cheap, clearing one stops it, and many connections share one timer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { clock, TimerWheel, type Timed } from '../src/http/h1/deadlines.js';

function timed(): Timed & { fired: number[] } {
  const t = { deadline: 0, wheelKey: 0, fired: [] as number[], onDeadline(now: number) { t.fired.push(now); } };
  return t;
}

test('a deadline fires once, not early, and within its resolution (generous margin for a loaded machine)', async () => {
  const wheel = new TimerWheel();
  const t = timed();
  const at = clock() + 120;
  wheel.set(t, at, clock());
  await sleep(60);
  assert.deepEqual(t.fired, [], 'not yet');
  await sleep(400);
  assert.equal(t.fired.length, 1);
  assert.ok(t.fired[0]! >= at, 'never early');
});

test('moved later: fires at the new deadline only; cleared: never fires', async () => {
  const wheel = new TimerWheel();
  const moved = timed();
  const cleared = timed();
  const now = clock();
  wheel.set(moved, now + 50, now);
  wheel.set(cleared, now + 50, now);
  wheel.set(moved, now + 250, now); // e.g. a keep-alive connection that served another request
  wheel.set(cleared, 0, now);
  await sleep(150);
  assert.deepEqual(moved.fired, [], 'not at the old deadline');
  await sleep(400);
  assert.equal(moved.fired.length, 1);
  assert.ok(moved.fired[0]! >= now + 250);
  assert.deepEqual(cleared.fired, []);
});

test('a thousand deadlines in the same stretch share a few buckets; each fires once', async () => {
  const wheel = new TimerWheel();
  const now = clock();
  const all = Array.from({ length: 1000 }, () => timed());
  all.forEach((t, i) => wheel.set(t, now + 5000 + i, now)); // 5.0–6.0 s ahead: 100 ms resolution
  assert.ok(wheel.size <= 12, `${wheel.size} buckets`);
  const soon = all.slice(0, 10);
  for (const t of soon) wheel.set(t, clock() + 30, clock()); // moved earlier: filed again
  await sleep(300);
  for (const t of soon) assert.equal(t.fired.length, 1);
  for (const t of all.slice(10)) assert.equal(t.fired.length, 0);
  for (const t of all) wheel.set(t, 0, clock()); // (cleared: the wheel's timer is unref'd anyway)
});
