// The parser's limits and options, resolved once per options object (a server shares one
// object among all its connections).
import { isToken, KNOWN_METHODS, MAX_METHOD_LENGTH } from './grammar.js';

export interface ParserLimits {
  /** Bytes of request line + header section (and, separately, of a trailer section). 431 beyond. */
  maxHeaderSize: number;
  /** Header field lines per request (and per trailer section). 431 beyond. */
  maxHeaderCount: number;
  /** Bytes of the request-target. 414 beyond. */
  maxTargetLength: number;
  /** Bytes of a request body (declared or received). 413 beyond. */
  maxBodySize: number;
  /** Bytes of a chunk-size line (size + extensions). 400 beyond. */
  maxChunkLineSize: number;
  /** Methods to accept besides the known ones (RFC 9110's, PATCH, WebDAV's); others are 501. Case-sensitive tokens. */
  extraMethods: readonly string[];
}

export const DEFAULT_LIMITS: ParserLimits = {
  maxHeaderSize: 16 * 1024,
  maxHeaderCount: 100,
  maxTargetLength: 8 * 1024,
  maxBodySize: 1024 * 1024,
  maxChunkLineSize: 4 * 1024,
  extraMethods: [],
};

export interface Resolved extends ParserLimits {
  methods: Set<string>;
  maxMethodLength: number;
}

/** Options objects are shared by every connection of a server: resolve each once. */
const resolvedLimits = new WeakMap<Partial<ParserLimits>, Resolved>();

export function resolveLimits(limits: Partial<ParserLimits>): Resolved {
  let l = resolvedLimits.get(limits);
  if (l === undefined) {
    const r = { ...DEFAULT_LIMITS } as ParserLimits;
    for (const k of Object.keys(DEFAULT_LIMITS) as (keyof ParserLimits)[]) {
      const v = limits[k];
      if (v !== undefined) (r as unknown as Record<string, unknown>)[k] = v; // an option left undefined keeps its default
    }
    const methods = new Set(KNOWN_METHODS);
    let maxMethodLength = MAX_METHOD_LENGTH;
    for (const m of r.extraMethods) {
      if (!isToken(m)) throw new TypeError(`extraMethods: not a method token: ${JSON.stringify(m)}`);
      methods.add(m);
      if (m.length > maxMethodLength) maxMethodLength = m.length;
    }
    l = { ...r, methods, maxMethodLength };
    resolvedLimits.set(limits, l);
  }
  return l;
}
