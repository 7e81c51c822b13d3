// Applying a site config around a handler: CORS preflights are answered, then the first matching
// redirect, else the first matching rewrite changes the path the handler sees; the response gets
// the headers of every matching rule (later rules win, names compared case-insensitively) and the
// CORS headers. Rules are matched against the path the client sent.
//
// Cost: nothing at all without rules (the handler is returned as it is). With rules, what a path
// matches is worked out once and kept (a bounded map), and a frozen response (the static handler's
// cached ones) gets its merged copy made once too, so the engine's encoded-head cache still works.
import type { Handler, ResponseHeaders, SluiceRequest, SluiceResponse } from '../../http/types.js';
import { withPath } from '../with-path.js';
import { fillDestination, matchPattern } from './patterns.js';
import type { SiteRules } from './schema.js';
import { trimOws } from '../../http/grammar.js';

interface Decision {
  redirect: { status: number; location: string } | null;
  rewrite: string | null;
  /** Extra response headers (null: none). */
  headers: ResponseHeaders | null;
  /** Frozen response → the same with `headers` merged in. */
  merged: WeakMap<SluiceResponse, SluiceResponse>;
}

const MAX_DECISIONS = 4096;
const MAX_KEY = 1024;
const REASON: Record<number, string> = { 301: 'Moved Permanently', 302: 'Found', 307: 'Temporary Redirect', 308: 'Permanent Redirect' };

/** Whether the rules do anything at the HTTP level (cleanUrls / trailingSlash are the static handler's). */
export function hasHttpRules(rules: SiteRules): boolean {
  return rules.cors !== null || rules.headers.length > 0 || rules.redirects.length > 0 || rules.rewrites.length > 0;
}

export function applySiteRules(inner: Handler, rules: SiteRules): Handler {
  if (!hasHttpRules(rules)) return inner;
  const cors = rules.cors;
  const corsHeaders: ResponseHeaders | null = cors === null ? null : {
    'Access-Control-Allow-Origin': cors.origin,
    'Access-Control-Expose-Headers': 'Content-Range, Accept-Ranges, ETag',
    ...(cors.origin === '*' ? {} : { Vary: 'Origin' }),
  };
  const decisions = new Map<string, Decision>();

  function decide(path: string): Decision {
    let d = decisions.get(path);
    if (d !== undefined) return d;
    let redirect: Decision['redirect'] = null;
    for (const r of rules.redirects) {
      const m = matchPattern(r.pattern, path);
      if (m !== null) { redirect = { status: r.status, location: fillDestination(r.destination, m) }; break; }
    }
    let rewrite: string | null = null;
    if (redirect === null) {
      for (const r of rules.rewrites) {
        const m = matchPattern(r.pattern, path);
        if (m !== null) { rewrite = fillDestination(r.destination, m); break; }
      }
    }
    let headers: ResponseHeaders | null = corsHeaders === null ? null : { ...corsHeaders };
    for (const h of rules.headers) {
      if (matchPattern(h.pattern, path) !== null) headers = mergeHeaders(headers ?? {}, h.headers);
    }
    d = { redirect, rewrite, headers: headers === null ? null : Object.freeze(headers), merged: new WeakMap() };
    if (path.length <= MAX_KEY) {
      if (decisions.size >= MAX_DECISIONS) decisions.clear();
      decisions.set(path, d);
    }
    return d;
  }

  function decorate(d: Decision, res: SluiceResponse): SluiceResponse {
    const extra = d.headers;
    if (extra === null) return res;
    const frozen = Object.isFrozen(res);
    if (frozen) {
      const hit = d.merged.get(res);
      if (hit !== undefined) return hit;
    }
    const out: SluiceResponse = { ...res, headers: mergeHeaders(res.headers ?? {}, extra) };
    if (frozen) {
      Object.freeze(out.headers);
      d.merged.set(res, Object.freeze(out));
    }
    return out;
  }

  return (req: SluiceRequest) => {
    const d = decide(req.path);
    if (cors !== null && req.method === 'OPTIONS' && req.headers.has('origin') && req.headers.has('access-control-request-method')) {
      return decorate(d, preflight(req, cors));
    }
    if (d.redirect !== null) {
      let location = d.redirect.location;
      if (req.query !== '' && !location.includes('?')) location += '?' + req.query;
      const status = d.redirect.status;
      return decorate(d, {
        status,
        headers: { Location: location, 'Content-Type': 'text/plain; charset=utf-8' },
        body: `${REASON[status]}: ${location}\n`,
      });
    }
    let target = req;
    if (d.rewrite !== null) {
      const q = d.rewrite.indexOf('?');
      target = q < 0 ? withPath(req, d.rewrite, req.query) : withPath(req, d.rewrite.slice(0, q), d.rewrite.slice(q + 1));
    }
    const res = inner(target);
    if (d.headers === null) return res;
    return res instanceof Promise ? res.then((r) => decorate(d, r)) : decorate(d, res);
  };
}

/** A CORS preflight (OPTIONS with Origin and Access-Control-Request-Method): 204 with what is allowed. */
function preflight(req: SluiceRequest, cors: NonNullable<SiteRules['cors']>): SluiceResponse {
  const headers: ResponseHeaders = {
    'Access-Control-Allow-Methods': cors.methods.join(', '),
    'Access-Control-Max-Age': cors.maxAge,
    Vary: 'Access-Control-Request-Headers',
  };
  // The headers asked for are allowed as they are (a static site has nothing to protect from them).
  const asked = req.headers.get('access-control-request-headers');
  if (asked !== undefined && /^[!#$%&'*+\-.^_`|~0-9A-Za-z, \t]*$/.test(asked) && trimOws(asked) !== '') {
    headers['Access-Control-Allow-Headers'] = asked;
  }
  return { status: 204, headers, body: null };
}

/**
 * `base` with `extra` on top: a name in `extra` replaces the same name in `base` whatever its
 * case, except Vary, whose lists are joined (a rule must not drop the handler's Accept-Encoding).
 */
export function mergeHeaders(base: ResponseHeaders, extra: ResponseHeaders): ResponseHeaders {
  const replaced = new Set(Object.keys(extra).map((k) => k.toLowerCase()));
  const out: ResponseHeaders = {};
  let vary: string[] = [];
  for (const [k, v] of Object.entries(base)) {
    if (k.toLowerCase() === 'vary') vary = String(v).split(',').map((s) => trimOws(s)).filter((s) => s !== '');
    else if (!replaced.has(k.toLowerCase())) out[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) {
    if (k.toLowerCase() !== 'vary') { out[k] = v; continue; }
    for (const t of String(v).split(',')) {
      const name = trimOws(t);
      if (name !== '' && !vary.some((x) => x.toLowerCase() === name.toLowerCase())) vary.push(name);
    }
  }
  if (vary.length > 0) out['Vary'] = vary.join(', ');
  return out;
}
