// Deadlines for every connection of the process on ONE timer: a coarse wheel of buckets keyed by
// expiry time. A Timeout per connection costs memory for each of 10,000 idle connections and a
// timer-list operation per request; here a connection only records its deadline, and lands in a
// bucket (an array slot) when that deadline moves to another bucket.
//
// Buckets are rounded up to a resolution that grows with the delay (about a tenth of it, at most
// a second), so a deadline fires a little late, never early: an idle keep-alive connection may
// live up to ~10% longer than its timeout, a 60 s send timeout up to a second longer.
//
// Entries are not removed when a deadline moves or is cleared (that would need a search): a
// bucket, when due, skips the connections whose deadline is now elsewhere (`wheelKey` no longer
// its key) and re-files those whose deadline moved later.

/**
 * Milliseconds on the connections' clock: Date.now() counted from an epoch taken at load. The
 * times a connection keeps are then small integers, which V8 stores in the object itself; a
 * Date.now() value is past that range, so every field holding one would point to a separate heap
 * number. (They stay small for 2^31 ms of uptime, about 24 days; after that V8 boxes them: the
 * same values, a few more bytes per connection.)
 */
const EPOCH = Date.now() - 1;
export function clock(): number {
  return Math.floor(Date.now() - EPOCH); // (floor: a small integer result, where a bare difference is a heap number)
}

/** What the wheel needs of a connection. */
export interface Timed {
  /** Time of the deadline on the wheel's clock (`clock()` for the process's wheel); 0 = none. */
  deadline: number;
  /** Key of the bucket this entry is filed in; 0 = none. Owned by the wheel. */
  wheelKey: number;
  /** The deadline passed. */
  onDeadline(now: number): void;
}

function resolutionFor(delay: number): number {
  if (delay < 1000) return 10;
  if (delay < 10_000) return 100;
  return 1000;
}

export class TimerWheel {
  private readonly buckets = new Map<number, Timed[]>();
  private timer: NodeJS.Timeout | null = null;
  /** When the armed timer fires (the earliest bucket key, when it was armed). */
  private armedAt = 0;
  private readonly now: () => number;

  constructor(now: () => number = clock) {
    this.now = now;
  }

  /** Sets (or, with 0, clears) `t`'s deadline. Cheap when the deadline stays in the same bucket. */
  set(t: Timed, at: number, now: number): void {
    t.deadline = at;
    if (at === 0) return; // (left in its bucket: skipped there)
    const res = resolutionFor(at - now);
    const key = Math.ceil(at / res) * res;
    if (t.wheelKey === key) return;
    if (t.wheelKey !== 0 && t.wheelKey < key) {
      // Filed earlier than needed: the old bucket re-files it when due (no search to take it out).
      return;
    }
    this.file(t, key);
  }

  /** Number of buckets (for tests). */
  get size(): number {
    return this.buckets.size;
  }

  private file(t: Timed, key: number): void {
    t.wheelKey = key;
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = [];
      this.buckets.set(key, bucket);
    }
    bucket.push(t);
    if (this.timer === null || key < this.armedAt) this.arm(key);
  }

  private arm(key: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.armedAt = key;
    this.timer = setTimeout(runWheel, Math.max(1, key - this.now()), this);
    this.timer.unref(); // deadlines never keep the process alive on their own
  }

  /** @internal The timer fired: run every bucket that is due, then re-arm for the next. */
  run(): void {
    this.timer = null;
    const now = this.now();
    let next = 0;
    for (const [key, bucket] of this.buckets) {
      if (key > now) {
        if (next === 0 || key < next) next = key;
        continue;
      }
      this.buckets.delete(key);
      for (const t of bucket) {
        if (t.wheelKey !== key) continue; // moved to another bucket meanwhile
        t.wheelKey = 0;
        if (t.deadline === 0) continue;
        if (t.deadline <= now) {
          t.deadline = 0;
          t.onDeadline(now);
        } else {
          this.set(t, t.deadline, now); // moved later: file it where it belongs now
        }
      }
    }
    // (Buckets created while running are in the map too: take the earliest.)
    for (const key of this.buckets.keys()) if (next === 0 || key < next) next = key;
    if (next !== 0 && this.timer === null) this.arm(next);
  }
}

function runWheel(wheel: TimerWheel): void {
  wheel.run();
}

/** The process's wheel, shared by every connection. */
export const wheel = new TimerWheel();
