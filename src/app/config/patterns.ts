// Path patterns of a site config ("/blog/:slug", "/assets/**", "/**/*.js") and the destinations
// they fill in ("/posts/:slug", "https://example.com/:splat").
//
// A pattern is matched against the request path as sent (still percent-encoded), segment by
// segment: `:name` is one non-empty segment, `**` (captured as `splat`) or `:name*` any number of
// segments (also none), `*` inside a segment any characters but "/", anything else literally.
// A trailing "/" in the path is optional unless the pattern ends with one.

export interface Pattern {
  readonly source: string;
  readonly regex: RegExp;
  /** Capture names, in group order. */
  readonly names: readonly string[];
}

export class PatternError extends Error {}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function escapeLiteral(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*');
}

export function compilePattern(source: string): Pattern {
  if (!source.startsWith('/')) throw new PatternError('must start with "/"');
  const names: string[] = [];
  const segs = source.split('/').slice(1);
  let re = '^';
  const endsWithSlash = source.length > 1 && source.endsWith('/');
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    if (seg === '' && i === segs.length - 1) break; // the trailing "/"
    if (seg === '**' || (seg.startsWith(':') && seg.endsWith('*'))) {
      const name = seg === '**' ? 'splat' : seg.slice(1, -1);
      if (!NAME.test(name)) throw new PatternError(`"${seg}" is not a valid capture`);
      if (names.includes(name)) throw new PatternError(`":${name}" is captured twice`);
      names.push(name);
      re += '(?:/(.*))?';
    } else if (seg.startsWith(':')) {
      const name = seg.slice(1);
      if (!NAME.test(name)) throw new PatternError(`"${seg}" is not a valid capture (":name", letters, digits and _)`);
      if (names.includes(name)) throw new PatternError(`":${name}" is captured twice`);
      names.push(name);
      re += '/([^/]+)';
    } else {
      if (seg.includes(':')) throw new PatternError(`":" only starts a whole segment (in "${seg}")`);
      re += '/' + escapeLiteral(seg);
    }
  }
  if (source === '/') re += '/$';
  else if (endsWithSlash) re += '/$';
  else if (!re.endsWith('(?:/(.*))?')) re += '/?$';
  else re += '$';
  return Object.freeze({ source, regex: new RegExp(re), names: Object.freeze(names) });
}

/** The captures of `path`, or null when it does not match. */
export function matchPattern(p: Pattern, path: string): Record<string, string> | null {
  const m = p.regex.exec(path);
  if (m === null) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.names.length; i++) out[p.names[i]!] = m[i + 1] ?? '';
  return out;
}

const PLACEHOLDER = /:([A-Za-z_][A-Za-z0-9_]*)/g;

/** Names used in a destination (":slug", ":splat"); ports ("http://h:8080") are not names. */
export function destinationNames(destination: string): string[] {
  return [...destination.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** Fills a destination's placeholders from captures; a path destination keeps exactly one leading "/". */
export function fillDestination(destination: string, captures: Record<string, string>): string {
  const out = destination.replace(PLACEHOLDER, (all, name: string) => captures[name] ?? all);
  // A capture may start with "/" ("/go/**" → "/:splat" with "/go//evil.example"): never "//host".
  return out.startsWith('/') ? out.replace(/^\/+/, '/') : out;
}
