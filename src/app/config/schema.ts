// The site config (`sluice.json`), checked field by field: every mistake is reported with the
// path of the field ("redirects[1].type") so a typo is a clear start-up error, never a rule that
// silently does nothing. The shape follows what people already write for serve's `serve.json`
// (headers as an object or as serve's [{ key, value }] list).
import { compilePattern, destinationNames, PatternError, type Pattern } from './patterns.js';

export interface CorsConfig {
  /** Access-Control-Allow-Origin. Default "*". */
  origin?: string;
  /** Methods a preflight allows. Default GET, HEAD, OPTIONS. */
  methods?: string[];
  /** How long a browser may cache a preflight, in seconds. Default 86400. */
  maxAge?: number;
}

export interface SiteConfig {
  /** /about serves about.html; /about.html → 301 /about. */
  cleanUrls?: boolean;
  /** true: add a trailing slash to folders and clean URLs; false: remove it; absent: folders only. */
  trailingSlash?: boolean;
  /** CORS for every response, and answers to preflight OPTIONS requests. */
  cors?: boolean | CorsConfig;
  headers?: { source: string; headers: Record<string, string> }[];
  redirects?: { source: string; destination: string; type?: 301 | 302 | 307 | 308 }[];
  rewrites?: { source: string; destination: string }[];
}

/** The checked form: patterns compiled, defaults filled. */
export interface SiteRules {
  cleanUrls: boolean;
  trailingSlash: boolean | undefined;
  cors: Required<CorsConfig> | null;
  headers: { pattern: Pattern; headers: Record<string, string> }[];
  redirects: { pattern: Pattern; destination: string; status: number }[];
  rewrites: { pattern: Pattern; destination: string }[];
}

export class SiteConfigError extends Error {}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Field values: visible Latin-1 characters, SP and HTAB, no leading/trailing whitespace. */
const FIELD_VALUE = /^(?:[\x21-\x7e\x80-\xff](?:[\x20\x09\x21-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?$/;
const REDIRECT_TYPES = [301, 302, 307, 308];

export function isHeaderName(s: string): boolean {
  return TOKEN.test(s);
}

export function isHeaderValue(s: string): boolean {
  return FIELD_VALUE.test(s);
}

type Obj = Record<string, unknown>;

class Checker {
  constructor(private readonly file: string) {}

  fail(field: string, message: string): never {
    throw new SiteConfigError(`${this.file}: ${field} ${message}`);
  }

  object(v: unknown, field: string, allowed: readonly string[]): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(field, `must be an object, got ${describe(v)}`);
    for (const k of Object.keys(v)) {
      if (!allowed.includes(k)) this.fail(field === '' ? `"${k}"` : `${field}.${k}`, `is not a known field (expected one of: ${allowed.join(', ')})`);
    }
    return v as Obj;
  }

  array(v: unknown, field: string): unknown[] {
    if (!Array.isArray(v)) this.fail(field, `must be a list, got ${describe(v)}`);
    return v;
  }

  bool(v: unknown, field: string): boolean | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') this.fail(field, `must be true or false, got ${describe(v)}`);
    return v;
  }

  string(v: unknown, field: string): string {
    if (typeof v !== 'string') this.fail(field, `must be a string, got ${describe(v)}`);
    return v;
  }

  pattern(v: unknown, field: string): Pattern {
    const s = this.string(v, field);
    try {
      return compilePattern(s);
    } catch (err) {
      if (err instanceof PatternError) this.fail(field, `"${s}": ${err.message}`);
      throw err;
    }
  }

  destination(v: unknown, field: string, pattern: Pattern, external: boolean): string {
    const s = this.string(v, field);
    if (!s.startsWith('/') && !(external && /^https?:\/\/[^/\s]/.test(s))) {
      this.fail(field, `"${s}" must start with "/"${external ? ' or http:// / https://' : ''}`);
    }
    if (/[\s\x00-\x1f\x7f]/.test(s)) this.fail(field, `"${s}" must not contain whitespace or control characters`);
    for (const name of destinationNames(s)) {
      if (!pattern.names.includes(name)) this.fail(field, `uses ":${name}", which the source "${pattern.source}" does not capture`);
    }
    return s;
  }

  headerMap(v: unknown, field: string): Record<string, string> {
    const out: Record<string, string> = {};
    const add = (name: unknown, value: unknown, f: string) => {
      const n = this.string(name, `${f} name`);
      if (!isHeaderName(n)) this.fail(f, `"${n}" is not a valid header name`);
      const val = typeof value === 'number' ? String(value) : this.string(value, `${f}.${n}`);
      if (!isHeaderValue(val)) this.fail(`${f}.${n}`, 'must be printable text without line breaks or surrounding spaces');
      out[n] = val;
    };
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        const o = this.object(item, `${field}[${i}]`, ['key', 'value']);
        add(o.key, o.value, `${field}[${i}]`);
      });
    } else {
      if (typeof v !== 'object' || v === null) this.fail(field, `must be an object of "Name": "value" (or a list of { key, value }), got ${describe(v)}`);
      for (const [name, value] of Object.entries(v)) add(name, value, field);
    }
    return out;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/** Checks a parsed config; `file` names it in error messages. Throws SiteConfigError. */
export function checkSiteConfig(value: unknown, file = 'sluice.json'): SiteRules {
  const c = new Checker(file);
  const top = c.object(value, '', ['$schema', 'cleanUrls', 'trailingSlash', 'cors', 'headers', 'redirects', 'rewrites']);
  const rules: SiteRules = {
    cleanUrls: c.bool(top.cleanUrls, 'cleanUrls') ?? false,
    trailingSlash: c.bool(top.trailingSlash, 'trailingSlash'),
    cors: null,
    headers: [],
    redirects: [],
    rewrites: [],
  };
  if (top.cors !== undefined && top.cors !== false) {
    const o = top.cors === true ? {} : c.object(top.cors, 'cors', ['origin', 'methods', 'maxAge']);
    const origin = o.origin === undefined ? '*' : c.string(o.origin, 'cors.origin');
    if (!isHeaderValue(origin) || origin === '') c.fail('cors.origin', 'must be "*" or an origin such as "https://example.com"');
    const methods = o.methods === undefined ? ['GET', 'HEAD', 'OPTIONS'] : c.array(o.methods, 'cors.methods').map((m, i) => {
      const s = c.string(m, `cors.methods[${i}]`);
      if (!TOKEN.test(s)) c.fail(`cors.methods[${i}]`, `"${s}" is not a method name`);
      return s;
    });
    let maxAge = 86400;
    if (o.maxAge !== undefined) {
      if (typeof o.maxAge !== 'number' || !Number.isInteger(o.maxAge) || o.maxAge < 0) c.fail('cors.maxAge', `must be a whole number of seconds, got ${describe(o.maxAge)}`);
      maxAge = o.maxAge as number;
    }
    rules.cors = { origin, methods, maxAge };
  }
  if (top.headers !== undefined) {
    c.array(top.headers, 'headers').forEach((item, i) => {
      const o = c.object(item, `headers[${i}]`, ['source', 'headers']);
      if (o.headers === undefined) c.fail(`headers[${i}].headers`, 'is missing');
      rules.headers.push({ pattern: c.pattern(o.source, `headers[${i}].source`), headers: c.headerMap(o.headers, `headers[${i}].headers`) });
    });
  }
  if (top.redirects !== undefined) {
    c.array(top.redirects, 'redirects').forEach((item, i) => {
      const o = c.object(item, `redirects[${i}]`, ['source', 'destination', 'type']);
      const pattern = c.pattern(o.source, `redirects[${i}].source`);
      const destination = c.destination(o.destination, `redirects[${i}].destination`, pattern, true);
      const status = o.type === undefined ? 301 : o.type;
      if (typeof status !== 'number' || !REDIRECT_TYPES.includes(status)) c.fail(`redirects[${i}].type`, `must be one of ${REDIRECT_TYPES.join(', ')}, got ${describe(o.type)}`);
      rules.redirects.push({ pattern, destination, status: status as number });
    });
  }
  if (top.rewrites !== undefined) {
    c.array(top.rewrites, 'rewrites').forEach((item, i) => {
      const o = c.object(item, `rewrites[${i}]`, ['source', 'destination']);
      const pattern = c.pattern(o.source, `rewrites[${i}].source`);
      rules.rewrites.push({ pattern, destination: c.destination(o.destination, `rewrites[${i}].destination`, pattern, false) });
    });
  }
  return rules;
}
