// Bytes to a Latin-1 string (one char per byte), the parser's way of turning field names and
// values into strings. `Buffer#latin1Slice(start, end)` is undocumented (it is what
// `buf.toString('latin1', start, end)` calls after checking its arguments), but skipping those
// checks matters on the hot path. It is detected once, here; when a Node version lacks it (or
// it misbehaves) the documented `toString` does the same job, a little slower.

type Latin1Sliceable = Buffer & { latin1Slice?: (start: number, end: number) => string };

function detect(): boolean {
  const probe = Buffer.from([0x41, 0x00, 0xa0, 0xff]) as Latin1Sliceable;
  try {
    return typeof probe.latin1Slice === 'function' && probe.latin1Slice(0, 4) === 'A\u0000\u00a0\u00ff' && probe.latin1Slice(1, 3) === '\u0000\u00a0';
  } catch {
    return false;
  }
}

/** Whether Node still has the undocumented fast path (a test fails loudly when it goes away). */
export const NATIVE_LATIN1_SLICE = detect();

/** The documented equivalent, used when the native method is missing. */
export function latin1SliceFallback(buf: Buffer, start: number, end: number): string {
  return buf.toString('latin1', start, end);
}

/** buf[start, end) as a Latin-1 string. */
export const latin1Slice: (buf: Buffer, start: number, end: number) => string = NATIVE_LATIN1_SLICE
  ? (buf, start, end) => (buf as Latin1Sliceable).latin1Slice!(start, end)
  : latin1SliceFallback;
