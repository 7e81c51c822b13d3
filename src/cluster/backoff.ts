// A worker slot that keeps dying: when its next worker starts, and how the supervisor says so.
// A worker that lived at least STABLE_MS after listening did not "keep dying"; otherwise the
// 2nd death in a row waits the initial delay, each further one twice as long, up to a maximum.

/** A worker that lived at least this long after listening did not "keep dying". */
export const STABLE_MS = 10_000;

/** The wait before restarting a slot after its `failures`-th death in a row (the 1st: none). */
export function backoffDelay(failures: number, initialMs: number, maxMs: number): number {
  return failures <= 1 ? 0 : Math.min(initialMs * 2 ** (failures - 2), maxMs);
}

export function describeExit(code: number | null, signal: string | null): string {
  if (signal) return `was killed by ${signal}`;
  return `exited with code ${code}`;
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
}

export function ordinal(k: number): string {
  const s = k % 100 >= 11 && k % 100 <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[k % 10] ?? 'th';
  return `${k}${s}`;
}
