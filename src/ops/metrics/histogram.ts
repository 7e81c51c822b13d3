// Request durations in fixed, roughly logarithmic buckets: 1, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5 × 10^k ms
// from 10 µs up (each bucket at most 1.5× the previous), so percentiles come out within a bucket's
// width, and histograms from several workers merge by adding counts. The Prometheus histogram
// exposes the 1, 2.5, 5 × 10^k subset of the same bounds, so its counts are exact sums of these.

const STEPS = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5];

/** Upper bounds in milliseconds, ascending; one more bucket (+Inf) follows the last. */
export const BOUNDS_MS: readonly number[] = (() => {
  const out: number[] = [];
  for (let e = -2; e <= 4; e++) for (const s of STEPS) out.push(Number((s * 10 ** e).toPrecision(3)));
  return out;
})();

/** Indexes into BOUNDS_MS of the Prometheus buckets (0.1 ms … 10 s). */
export const PROM_BUCKETS: readonly number[] = BOUNDS_MS
  .map((b, i) => ({ b, i }))
  .filter(({ b }) => b >= 0.1 && b <= 10_000 && [1, 2.5, 5].includes(Number((b / 10 ** Math.floor(Math.log10(b) + 1e-9)).toPrecision(3))))
  .map(({ i }) => i);

/** The bucket of a duration: the first bound ≥ ms (binary search), BOUNDS_MS.length for +Inf. */
export function bucketOf(ms: number): number {
  let lo = 0;
  let hi = BOUNDS_MS.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (BOUNDS_MS[mid]! < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export const BUCKETS = BOUNDS_MS.length + 1;

/** The q-quantile (0..1) of bucket counts, in ms, interpolated linearly inside its bucket; null when empty. */
export function quantile(counts: ArrayLike<number>, q: number): number | null {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c > 0 && seen + c >= rank) {
      const lo = i === 0 ? 0 : BOUNDS_MS[i - 1]!;
      const hi = i < BOUNDS_MS.length ? BOUNDS_MS[i]! : lo * 2;
      return lo + (hi - lo) * Math.min(1, Math.max(0, (rank - seen) / c));
    }
    seen += c;
  }
  return BOUNDS_MS[BOUNDS_MS.length - 1]!;
}

/** a + b, element by element (into a new array). */
export function addCounts(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(Math.max(a.length, b.length));
  for (let i = 0; i < out.length; i++) out[i] = (a[i] ?? 0) + (b[i] ?? 0);
  return out;
}

/** a − b, element by element, never below 0 (a worker restarted in between). */
export function subCounts(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Math.max(0, a[i]! - (b[i] ?? 0));
  return out;
}
