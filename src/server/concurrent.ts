// forEachConcurrent: the async book's `for_each_concurrent(limit, f)` for async iterables.
// At most `limit` calls of `fn` are in flight; the next item is pulled from `source` only when
// a slot frees, so a bounded source (the listener's accept queue) sees back-pressure.

/**
 * A task that reports its end through one callback rather than a promise. A connection is one: a
 * promise chain per connection (the promise, its reactions and their closures) would be most of
 * what an idle connection holds beyond its socket.
 */
export interface Completion {
  /** Calls `callback` once, when the task has finished (at once if it has already). */
  whenDone(callback: () => void): void;
}

/**
 * Runs `fn` on every item of `source` with at most `limit` in flight (unbounded when `limit` is
 * undefined or Infinity); `fn` returns a promise or a Completion. Resolves once the source is exhausted and every call has settled.
 * If a call rejects, no further items are pulled and the first error is thrown after the
 * in-flight calls settle.
 */
export async function forEachConcurrent<T>(
  source: AsyncIterable<T>,
  limit: number | undefined,
  fn: (item: T) => Promise<void> | Completion,
): Promise<void> {
  const max = limit === undefined ? Infinity : limit;
  if (!(max >= 1)) throw new RangeError(`forEachConcurrent: limit must be >= 1, got ${limit}`);
  const iterator = source[Symbol.asyncIterator]();
  let inFlight = 0;
  let failed = false;
  let firstError: unknown;
  // Woken when a slot frees (while the loop waits for one) or when the last call settles.
  let wake: (() => void) | null = null;
  const settle = () => {
    inFlight--;
    if (wake) { const w = wake; wake = null; w(); }
  };
  const fail = (err: unknown) => {
    if (!failed) { failed = true; firstError = err; }
  };
  const rejected = (err: unknown) => { fail(err); settle(); };

  try {
    while (!failed) {
      while (inFlight >= max) await new Promise<void>((r) => (wake = r));
      if (failed) break;
      const next = await iterator.next();
      if (next.done) break;
      inFlight++;
      let task: Promise<void> | Completion;
      try { task = fn(next.value); } catch (err) { rejected(err); continue; }
      if (typeof (task as Promise<void>).then === 'function') (task as Promise<void>).then(settle, rejected);
      else (task as Completion).whenDone(settle);
    }
  } finally {
    if (failed) await iterator.return?.();
  }
  while (inFlight > 0) await new Promise<void>((r) => (wake = r));
  if (failed) throw firstError;
}
