// HTTP semantics helpers for the static handler: entity tags, dates, Range and Accept-Encoding.
// Pure functions (no I/O), unit-tested directly.

/** Seconds since the epoch of an HTTP date (IMF-fixdate, RFC 850 or asctime), or NaN. */
export function parseHttpDate(value: string): number {
  if (value === lastDateString) return lastDateSeconds;
  const ms = Date.parse(value);
  const s = Number.isNaN(ms) ? NaN : Math.floor(ms / 1000);
  lastDateString = value;
  lastDateSeconds = s;
  return s;
}
// One-slot memo: clients revalidating the same file send the same date again and again.
let lastDateString = '';
let lastDateSeconds = NaN;

/** Strips a weak prefix: W/"x" → "x". */
function opaque(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}

/** Splits an entity-tag list ("a", W/"b" , "c,d"), honouring commas inside quotes. */
export function splitTags(list: string): string[] {
  const tags: string[] = [];
  let i = 0;
  const n = list.length;
  while (i < n) {
    while (i < n && (list[i] === ' ' || list[i] === '\t' || list[i] === ',')) i++;
    if (i >= n) break;
    const start = i;
    if (list.startsWith('W/', i)) i += 2;
    if (list[i] === '"') {
      const close = list.indexOf('"', i + 1);
      i = close < 0 ? n : close + 1;
    } else {
      while (i < n && list[i] !== ',') i++;
    }
    tags.push(list.slice(start, i).trim());
  }
  return tags;
}

/** If-None-Match: weak comparison (RFC 9110 §13.1.2); "*" matches any current representation. */
export function matchesWeak(list: string, etag: string): boolean {
  if (list === etag) return true;
  const want = opaque(etag);
  for (const t of splitTags(list)) {
    if (t === '*' || opaque(t) === want) return true;
  }
  return false;
}

/** If-Match: strong comparison (both tags strong and identical); "*" matches. */
export function matchesStrong(list: string, etag: string): boolean {
  if (list === etag) return !etag.startsWith('W/');
  for (const t of splitTags(list)) {
    if (t === '*') return true;
    if (!t.startsWith('W/') && t === etag) return true;
  }
  return false;
}

/**
 * If-Range (RFC 9110 §13.1.5): true when the Range may be honoured. An entity tag must match
 * strongly; a date must equal Last-Modified exactly. Anything else → false (send the full 200).
 */
export function ifRangeMatches(value: string, etag: string, mtimeSeconds: number): boolean {
  const v = value.trim();
  if (v.startsWith('"')) return v === etag;
  if (v.startsWith('W/')) return false;
  const d = parseHttpDate(v);
  return !Number.isNaN(d) && d === mtimeSeconds;
}

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/** Unsatisfiable (answer 416 with Content-Range: bytes *\/size). */
export const UNSATISFIABLE = 'unsatisfiable' as const;

/**
 * Parses a Range header against a representation of `size` bytes. Returns the single range to
 * serve, UNSATISFIABLE, or null to ignore the header and send the full 200: another unit, a
 * malformed value, several ranges (multipart/byteranges is not supported: the full document is
 * smaller than the sum of its parts plus boundaries in the common case), or an empty file.
 */
export function parseRange(header: string, size: number): ByteRange | typeof UNSATISFIABLE | null {
  const eq = header.indexOf('=');
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return null;
  const specs = header.slice(eq + 1).split(',');
  let spec: string | undefined;
  for (const s of specs) {
    const t = s.trim();
    if (t === '') continue;
    if (spec !== undefined) return null; // several ranges → full document
    spec = t;
  }
  if (spec === undefined) return null;
  const m = /^(\d*)[ \t]*-[ \t]*(\d*)$/.exec(spec);
  if (!m) return null;
  const [, a, b] = m as unknown as [string, string, string];
  if (size === 0) return null;
  if (a === '') {
    if (b === '') return null;
    const n = Number(b);
    if (n === 0) return UNSATISFIABLE;
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  let end = b === '' ? Infinity : Number(b);
  if (end < start) return null; // invalid range-spec: ignore the header
  if (start >= size) return UNSATISFIABLE;
  if (end >= size) end = size - 1;
  return { start, end };
}

export type Encoding = 'br' | 'gzip';

const NONE: readonly Encoding[] = Object.freeze([]);
const aeMemo = new Map<string, readonly Encoding[]>();

/**
 * The content codings we can produce that the client accepts, best first (higher q first; on a
 * tie brotli before gzip). Handles q-values, "*", "x-gzip" and explicit refusals ("br;q=0").
 * Memoised: clients send a handful of distinct values.
 */
export function acceptedEncodings(header: string): readonly Encoding[] {
  const hit = aeMemo.get(header);
  if (hit !== undefined) return hit;
  let br = -1;
  let gz = -1;
  let star = -1;
  for (const part of header.split(',')) {
    const semi = part.indexOf(';');
    const name = (semi < 0 ? part : part.slice(0, semi)).trim().toLowerCase();
    if (name === '') continue;
    let q = 1;
    if (semi >= 0) {
      const m = /(?:^|;)\s*q\s*=\s*([0-9.]+)\s*(?:;|$)/i.exec(part.slice(semi));
      if (m) {
        q = Number(m[1]);
        if (!(q >= 0 && q <= 1)) q = 0;
      }
    }
    if (name === 'br') br = q;
    else if (name === 'gzip' || name === 'x-gzip') gz = q;
    else if (name === '*') star = q;
  }
  if (br < 0) br = star < 0 ? 0 : star;
  if (gz < 0) gz = star < 0 ? 0 : star;
  let result: readonly Encoding[];
  if (br <= 0 && gz <= 0) result = NONE;
  else if (gz <= 0) result = ['br'];
  else if (br <= 0) result = ['gzip'];
  else result = gz > br ? ['gzip', 'br'] : ['br', 'gzip'];
  if (aeMemo.size >= 256) aeMemo.clear();
  aeMemo.set(header, Object.freeze(result));
  return result;
}
