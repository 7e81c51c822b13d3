// Header fields as received: parallel arrays, no per-field objects. Lookups compare lower-case
// names (a request carries a handful of fields, so a linear scan beats building a map). Names the
// parser recognises (Host, Content-Length, ...) arrive with their lower-case form as a constant;
// other names are lower-cased only when a lookup of the same length reaches them, so a request
// nobody asks about costs no toLowerCase() per field.
import type { Headers } from './types.js';

export class FieldList implements Headers {
  /** Names as received. */
  readonly names: string[] = [];
  /** Names in lower case, for lookups; '' until first needed for a name the parser did not recognise (see lowerName). */
  readonly lowerNames: string[] = [];
  readonly values: string[] = [];

  /** Appends a field; `lower` is the name in lower case, or '' to have it computed when first needed. */
  add(name: string, lower: string, value: string): void {
    this.names.push(name);
    this.lowerNames.push(lower);
    this.values.push(value);
  }

  get size(): number {
    return this.names.length;
  }

  /** The lower-case name of field `i`. */
  lowerName(i: number): string {
    const l = this.lowerNames[i];
    return l !== '' ? l : (this.lowerNames[i] = this.names[i].toLowerCase());
  }

  /** Whether field `i`, whose lower-case name is not known yet, is named `lower`. */
  private lazyIs(i: number, lower: string): boolean {
    // (a token is ASCII, so its length does not change when lower-cased)
    return this.names[i].length === lower.length && this.lowerName(i) === lower;
  }

  get(name: string): string | undefined {
    const q = lowerQuery(name);
    if (q === '') return undefined; // ('' also marks names not lower-cased yet)
    const lower = this.lowerNames;
    for (let i = 0; i < lower.length; i++) {
      const l = lower[i];
      if (l === q || (l === '' && this.lazyIs(i, q))) return this.values[i];
    }
    return undefined;
  }

  getAll(name: string): string[] {
    const q = lowerQuery(name);
    const out: string[] = [];
    if (q === '') return out;
    const lower = this.lowerNames;
    for (let i = 0; i < lower.length; i++) {
      const l = lower[i];
      if (l === q || (l === '' && this.lazyIs(i, q))) out.push(this.values[i]);
    }
    return out;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  *entries(): IterableIterator<[string, string]> {
    for (let i = 0; i < this.names.length; i++) yield [this.names[i], this.values[i]];
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

/**
 * A looked-up name in lower case: most callers already write "user-agent", so the name is only
 * copied when it has an upper-case ASCII letter. Only ASCII letters are folded (field names are
 * tokens, so no other character can match; toLowerCase() would map e.g. U+212A KELVIN SIGN to "k").
 */
export function lowerQuery(name: string): string {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return asciiLower(name);
  }
  return name;
}

function asciiLower(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 0x41 && c <= 0x5a ? String.fromCharCode(c + 0x20) : s[i];
  }
  return out;
}

/** A field name clients send often: matched on the bytes, so no string is built to look it up. */
export class KnownField {
  readonly lower: string;
  readonly canonical: string;
  private readonly lowerBytes: Uint8Array;
  private readonly canonicalBytes: Uint8Array;

  constructor(canonical: string) {
    this.canonical = canonical;
    this.lower = canonical.toLowerCase();
    this.lowerBytes = Buffer.from(this.lower, 'latin1');
    this.canonicalBytes = Buffer.from(canonical, 'latin1');
  }

  /** Case-insensitive match of buf[start, start + length). (ASCII letters, digits and "-": OR 0x20 lower-cases letters and keeps the rest.) */
  matches(buf: Uint8Array, start: number): boolean {
    const l = this.lowerBytes;
    for (let j = 0; j < l.length; j++) if ((buf[start + j] | 0x20) !== l[j]) return false;
    return true;
  }

  /** Whether the name was sent in its usual spelling, so the constant can stand for it. */
  exact(buf: Uint8Array, start: number): boolean {
    const c = this.canonicalBytes;
    for (let j = 0; j < c.length; j++) if (buf[start + j] !== c[j]) return false;
    return true;
  }
}

const KNOWN_FIELDS: KnownField[][] = [];
// Every field the parser itself acts on must be here (it switches on the lower-case constant).
for (const name of [
  'Host', 'User-Agent', 'Accept', 'Accept-Encoding', 'Accept-Language', 'Connection', 'Content-Length',
  'Content-Type', 'Transfer-Encoding', 'Cookie', 'Referer', 'Origin', 'Cache-Control', 'Pragma', 'Range',
  'If-None-Match', 'If-Modified-Since', 'If-Range', 'Authorization', 'Upgrade', 'Expect', 'X-Forwarded-For',
]) {
  (KNOWN_FIELDS[name.length] ??= []).push(new KnownField(name));
}

/** The known field buf[start, end) names (any case), or null. */
export function knownField(buf: Uint8Array, start: number, end: number): KnownField | null {
  const candidates = KNOWN_FIELDS[end - start];
  if (candidates === undefined) return null;
  for (let k = 0; k < candidates.length; k++) if (candidates[k].matches(buf, start)) return candidates[k];
  return null;
}
