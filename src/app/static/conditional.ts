// HTTP semantics helpers for the static handler: entity tags, dates, Range and Accept-Encoding.
// Pure functions (no I/O), unit-tested directly.

const DAYS = 'Mon|Tue|Wed|Thu|Fri|Sat|Sun';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MON = MONTHS.join('|');
// The three HTTP-date forms of RFC 9110 §5.6.7, exactly (case-sensitive, single spaces, GMT).
import { trimOws } from '../../http/grammar.js';
const IMF_FIXDATE = new RegExp(`^(?:${DAYS}), (\\d{2}) (${MON}) (\\d{4}) (\\d{2}):(\\d{2}):(\\d{2}) GMT$`);
const RFC850 = new RegExp(`^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-(${MON})-(\\d{2}) (\\d{2}):(\\d{2}):(\\d{2}) GMT$`);
const ASCTIME = new RegExp(`^(?:${DAYS}) (${MON}) ( \\d|\\d{2}) (\\d{2}):(\\d{2}):(\\d{2}) (\\d{4})$`);

function utcSeconds(year: number, month: string, day: number, h: number, m: number, s: number): number {
  const mon = MONTHS.indexOf(month);
  if (day < 1 || h > 23 || m > 59 || s > 60) return NaN;
  const ms = Date.UTC(year, mon, day, h, m, s);
  if (new Date(ms).getUTCDate() !== day) return NaN; // 31 Feb
  return Math.floor(ms / 1000);
}

/**
 * Seconds since the epoch of an HTTP-date, or NaN. Only the three forms RFC 9110 defines
 * (IMF-fixdate, RFC 850, asctime), exactly: anything else ("yesterday", a lower-case date, an
 * ISO date) is not a valid HTTP-date, and a conditional header holding one is ignored.
 */
export function parseHttpDate(value: string): number {
  if (value === lastDateString) return lastDateSeconds;
  let s = NaN;
  let m = IMF_FIXDATE.exec(value);
  if (m !== null) {
    s = utcSeconds(Number(m[3]), m[2]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  } else if ((m = RFC850.exec(value)) !== null) {
    // Two-digit year: the most recent year with those digits that is not more than 50 years ahead.
    const now = new Date().getUTCFullYear();
    let year = Math.floor(now / 100) * 100 + Number(m[3]);
    if (year > now + 50) year -= 100;
    s = utcSeconds(year, m[2]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  } else if ((m = ASCTIME.exec(value)) !== null) {
    s = utcSeconds(Number(m[6]), m[1]!, Number(trimOws(m[2]!)), Number(m[3]), Number(m[4]), Number(m[5]));
  }
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
    tags.push(trimOws(list.slice(start, i)));
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
  const v = trimOws(value);
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

/** More range-specs than this in one header are not even looked at (full 200). */
const MAX_SPECS = 256;

/**
 * Parses a Range header against a representation of `size` bytes. Returns the ranges to serve
 * (one or more), UNSATISFIABLE, or null to ignore the header and send the full 200: another
 * unit, a malformed value, an empty file, or more than `maxRanges` ranges once merged.
 *
 * Several ranges (RFC 9110 §14.2, §14.6): overlapping or adjacent ones are merged (so a client
 * cannot make us send the same bytes many times over, the denial-of-service note of §14.2), the
 * rest keep the order they were asked in; unsatisfiable ones are dropped, and if none is left the
 * answer is 416.
 */
export function parseRanges(header: string, size: number, maxRanges = 16): ByteRange[] | typeof UNSATISFIABLE | null {
  const eq = header.indexOf('=');
  if (eq < 0 || trimOws(header.slice(0, eq)).toLowerCase() !== 'bytes') return null;
  const specs = header.slice(eq + 1).split(',');
  if (specs.length > MAX_SPECS) return null;
  const ranges: ByteRange[] = [];
  let any = false;
  for (const s of specs) {
    const t = trimOws(s);
    if (t === '') continue;
    const m = /^(\d*)[ \t]*-[ \t]*(\d*)$/.exec(t);
    if (!m) return null;
    const [, a, b] = m as unknown as [string, string, string];
    if (a === '' && b === '') return null;
    any = true;
    if (a === '') {
      const n = Number(b);
      if (n > 0 && size > 0) ranges.push({ start: Math.max(0, size - n), end: size - 1 });
      continue;
    }
    const start = Number(a);
    const end = b === '' ? Infinity : Number(b);
    if (end < start) return null; // invalid range-spec: ignore the header
    if (start < size) ranges.push({ start, end: Math.min(end, size - 1) });
  }
  if (!any || size === 0) return null;
  if (ranges.length === 0) return UNSATISFIABLE;
  const merged = ranges.length === 1 ? ranges : coalesce(ranges);
  return merged.length > maxRanges ? null : merged;
}

/** Merges overlapping and adjacent ranges; each merged range takes the place of its first member. */
function coalesce(ranges: ByteRange[]): ByteRange[] {
  const order = ranges.map((r, i) => ({ r, i })).sort((x, y) => x.r.start - y.r.start);
  const groups: { start: number; end: number; first: number }[] = [];
  for (const { r, i } of order) {
    const g = groups[groups.length - 1];
    if (g !== undefined && r.start <= g.end + 1) {
      if (r.end > g.end) g.end = r.end;
      if (i < g.first) g.first = i;
    } else {
      groups.push({ start: r.start, end: r.end, first: i });
    }
  }
  groups.sort((x, y) => x.first - y.first);
  return groups.map(({ start, end }) => ({ start, end }));
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
    const name = trimOws(semi < 0 ? part : part.slice(0, semi)).toLowerCase();
    if (name === '') continue;
    let q = 1;
    if (semi >= 0) {
      const m = /(?:^|;)[ \t]*q[ \t]*=[ \t]*([0-9.]+)[ \t]*(?:;|$)/i.exec(part.slice(semi));
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
