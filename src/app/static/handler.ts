// serveStatic(root, options): the handler. GET and HEAD are served (OPTIONS, for a path or "*",
// answers what is allowed; other methods → 405 with Allow). A path seen before whose file has not
// changed is answered from the cache with one stat (cache.ts); anything else is resolved the slow
// way (resolve.ts). File-system failures other than "not found" become a 503 and a log line.
import fs from 'node:fs';
import path from 'node:path';
import type { Handler, SluiceRequest, SluiceResponse } from '../../http/types.js';
import { FileCache } from './cache.js';
import { Encoder } from './compress.js';
import { resolveOptions, type StaticOptions } from './options.js';
import { Resolver } from './resolve.js';
import { FsUnavailable, METHOD_NOT_ALLOWED, OPTIONS_OK, SERVICE_UNAVAILABLE } from './responses.js';

/** Counters, for tests and diagnostics. */
export interface StaticStats {
  entries: number;
  cachedBytes: number;
  urls: number;
  compressions: number;
  hits: number;
  misses: number;
  /** Requests answered 503 because the file system failed (out of descriptors, I/O error…). */
  unavailable: number;
}

const statsOf = new WeakMap<Handler, () => StaticStats>();

/** Internal counters of a handler made by serveStatic (undefined for any other handler). */
export function staticStats(handler: Handler): StaticStats | undefined {
  return statsOf.get(handler)?.();
}

export function serveStatic(root: string, options: StaticOptions = {}): Handler {
  const cfg = resolveOptions(options);
  let rootReal: string;
  try {
    rootReal = fs.realpathSync(path.resolve(root));
  } catch {
    throw new Error(`serveStatic: ${root}: no such directory`);
  }
  if (!fs.statSync(rootReal).isDirectory()) throw new Error(`serveStatic: ${root}: not a directory`);
  const rootPrefix = (rootReal === path.sep ? '' : rootReal) + path.sep;
  const inside = (real: string) => real === rootReal || real.startsWith(rootPrefix);

  const cache = new FileCache(cfg, inside);
  const resolver = new Resolver(cfg, cache, new Encoder(cfg, cache), rootReal, inside);

  // One log line per second at most: a descriptor shortage fails every request at once.
  let unavailable = 0;
  let lastLog = 0;
  let quiet = 0;
  const onError = (err: unknown): SluiceResponse => {
    if (!(err instanceof FsUnavailable)) throw err;
    unavailable++;
    const now = Date.now();
    if (now - lastLog >= 1000) {
      cfg.logError(`sluice: static: ${err.message}; answered 503${quiet > 0 ? ` (and ${quiet} more since the last line)` : ''}`);
      lastLog = now;
      quiet = 0;
    } else {
      quiet++;
    }
    return SERVICE_UNAVAILABLE;
  };
  const serveFresh = (req: SluiceRequest, isHead: boolean): SluiceResponse | Promise<SluiceResponse> => {
    const e = cache.fresh(req.path);
    if (e === undefined) return resolver.resolve(req, isHead).catch(onError);
    const r = resolver.serveEntry(req, e, isHead);
    return r instanceof Promise ? r.catch(onError) : r;
  };

  const handler: Handler = (req) => {
    const method = req.method;
    if (method === 'GET') return serveFresh(req, false);
    if (method === 'HEAD') return serveFresh(req, true);
    return method === 'OPTIONS' ? OPTIONS_OK : METHOD_NOT_ALLOWED;
  };
  statsOf.set(handler, () => ({
    entries: cache.files.size, cachedBytes: cache.cachedBytes, urls: cache.urls.size, ...cache.counters, unavailable,
  }));
  return handler;
}
