// A small router: method + path → handler. Exact paths are one Map lookup; patterns with
// ":name" segments or a trailing "*" are tried in order. Unmatched paths go to the fallback
// (404 by default); a path that exists under other methods gets 405 with Allow.
import type { Handler, SluiceRequest, SluiceResponse } from '../http/types.js';

interface Pattern {
  method: string;
  parts: string[];
  /** Index of a trailing "*" segment, or -1. */
  rest: number;
  handler: Handler;
}

const TEXT = 'text/plain; charset=utf-8';

export const notFound: Handler = () => ({ status: 404, headers: { 'Content-Type': TEXT }, body: 'Not Found\n' });

export class Router {
  private readonly exact = new Map<string, Map<string, Handler>>();
  private readonly patterns: Pattern[] = [];
  private fallbackHandler: Handler = notFound;

  /** Registers `handler` for `method` ("*" for any method) on `path` ("/users/:id", "/static/*"). */
  on(method: string, path: string, handler: Handler): this {
    if (!path.startsWith('/')) throw new Error(`Route paths start with "/": ${path}`);
    if (path.includes(':') || path.includes('*')) {
      const parts = path.split('/').slice(1);
      const star = parts.indexOf('*');
      if (star !== -1 && star !== parts.length - 1) throw new Error(`"*" must be the last segment: ${path}`);
      this.patterns.push({ method, parts, rest: star, handler });
    } else {
      let byMethod = this.exact.get(path);
      if (!byMethod) this.exact.set(path, (byMethod = new Map()));
      byMethod.set(method, handler);
      // HEAD is answered like GET unless it has its own route (the connection sends no body for HEAD).
      if (method === 'GET' && !byMethod.has('HEAD')) byMethod.set('HEAD', handler);
    }
    return this;
  }

  get(path: string, handler: Handler): this { return this.on('GET', path, handler); }
  post(path: string, handler: Handler): this { return this.on('POST', path, handler); }
  put(path: string, handler: Handler): this { return this.on('PUT', path, handler); }
  delete(path: string, handler: Handler): this { return this.on('DELETE', path, handler); }
  all(path: string, handler: Handler): this { return this.on('*', path, handler); }

  /** Handles every request no route matched (default: 404). */
  fallback(handler: Handler): this {
    this.fallbackHandler = handler;
    return this;
  }

  /**
   * `OPTIONS *` (the server as a whole, RFC 9110 §9.3.7): a custom fallback (a static handler)
   * answers it; else 200 with every method some route takes.
   */
  private optionsStar(req: SluiceRequest): SluiceResponse | Promise<SluiceResponse> {
    if (this.fallbackHandler !== notFound) return this.fallbackHandler(req);
    const methods = new Set<string>();
    for (const byMethod of this.exact.values()) for (const m of byMethod.keys()) methods.add(m);
    for (const p of this.patterns) methods.add(p.method);
    if (methods.has('GET')) methods.add('HEAD');
    methods.delete('*');
    methods.add('OPTIONS');
    return { status: 200, headers: { Allow: [...methods].join(', '), 'Content-Length': 0 }, body: null };
  }

  /** The router as a handler. */
  readonly handle: Handler = (req: SluiceRequest): SluiceResponse | Promise<SluiceResponse> => {
    if (req.path === '*') return this.optionsStar(req);
    const byMethod = this.exact.get(req.path);
    if (byMethod !== undefined) {
      const h = byMethod.get(req.method) ?? byMethod.get('*');
      if (h !== undefined) return h(req);
    }
    let allowed: string[] | null = byMethod ? [...byMethod.keys()] : null;
    if (this.patterns.length > 0) {
      const segs = req.path.split('/').slice(1);
      for (const p of this.patterns) {
        const params = match(p, segs);
        if (params === null) continue;
        if (p.method === req.method || p.method === '*' || (p.method === 'GET' && req.method === 'HEAD')) {
          req.params = params;
          return p.handler(req);
        }
        (allowed ??= []).push(p.method);
        if (p.method === 'GET') allowed.push('HEAD'); // (answered like GET, as above)
      }
    }
    if (allowed !== null && !allowed.includes('*')) {
      return {
        status: 405,
        headers: { Allow: [...new Set(allowed)].join(', '), 'Content-Type': TEXT },
        body: 'Method Not Allowed\n',
      };
    }
    return this.fallbackHandler(req);
  };
}

function match(p: Pattern, segs: string[]): Record<string, string> | null {
  const { parts, rest } = p;
  if (rest === -1 ? segs.length !== parts.length : segs.length < parts.length - 1) return null;
  let params: Record<string, string> | null = null;
  const n = rest === -1 ? parts.length : rest;
  for (let i = 0; i < n; i++) {
    const part = parts[i];
    if (part.startsWith(':')) {
      if (segs[i] === '') return null;
      (params ??= {})[part.slice(1)] = safeDecode(segs[i]);
    } else if (part !== segs[i]) {
      return null;
    }
  }
  if (rest !== -1) (params ??= {})['*'] = segs.slice(rest).join('/');
  return params ?? {};
}

function safeDecode(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}
