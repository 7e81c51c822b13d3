// Path resolution, the slow way: a request path that is not in the hot-path map is decoded and
// checked (paths.ts), then looked up on disk: a file; a folder → its index file, a redirect to
// the canonical spelling (trailing slash, clean URL), or a listing; a clean URL → `name.html`;
// a single-page app's route → the root's index; anything else → the root's 404.html (or a plain
// 404). Every path that leaves the root (symlinks included) is "not found".
import { promises as fsp } from 'node:fs';
import type { SluiceRequest, SluiceResponse } from '../../http/types.js';
import { FileCache, statOrMissing, type FileEntry } from './cache.js';
import { acceptedEncodings } from './conditional.js';
import { Encoder } from './compress.js';
import { listingResponse } from './listing-page.js';
import { readListing } from './listing.js';
import type { StaticConfig } from './options.js';
import { encodeSegments, hasNoExtension, parsePath } from './paths.js';
import { respond } from './representation.js';
import { isInternal } from '../with-path.js';
import { BAD_REQUEST, missingOrThrow, NO_INDEX, NOT_FOUND, textResponse, URI_TOO_LONG } from './responses.js';

export class Resolver {
  private readonly base: string;

  constructor(
    private readonly cfg: StaticConfig,
    private readonly cache: FileCache,
    private readonly encoder: Encoder,
    private readonly rootReal: string,
    private readonly inside: (real: string) => boolean,
  ) {
    this.base = rootReal === '/' ? '' : rootReal;
  }

  /** Answers with a file's entry: the encoding the client accepts, then preconditions and Range. */
  serveEntry(req: SluiceRequest, e: FileEntry, isHead: boolean): SluiceResponse | Promise<SluiceResponse> {
    const cfg = this.cfg;
    if (e.compressible && cfg.varies) {
      const ae = req.headers.get('accept-encoding');
      if (ae !== undefined && ae !== '') {
        const encs = acceptedEncodings(ae);
        if (encs.length > 0) {
          const r = this.encoder.pickSync(e, encs);
          if (r === undefined) return this.encoder.pick(e, encs).then((rep) => respond(cfg, req, rep ?? e, isHead));
          if (r !== null) return respond(cfg, req, r, isHead);
        }
      }
    }
    return respond(cfg, req, e, isHead);
  }

  /** The root's 404.html with status 404 when there is one, else `fallback`. */
  async notFound(fallback: SluiceResponse = NOT_FOUND): Promise<SluiceResponse> {
    const p = this.base + '/404.html';
    const e = await this.cache.loadFile(p, p);
    if (e === null) return fallback;
    if (e.notFound !== null) return e.notFound;
    let body = e.body;
    if (body === null) {
      try {
        body = await fsp.readFile(e.realPath);
      } catch (err) {
        return missingOrThrow('read', e.realPath, err) ?? fallback;
      }
    }
    const r = Object.freeze({
      status: 404,
      headers: Object.freeze({ 'Content-Type': e.type, 'Content-Length': body.length, 'Cache-Control': 'no-cache' }),
      body,
    });
    if (e.body !== null) e.notFound = r;
    return r;
  }

  /**
   * 301 to the canonical URL of `segments` (with the prefix, the query kept, always one leading
   * "/"), or null for an internal rewrite, whose path is the server's choice (served as it is).
   */
  private redirect(req: SluiceRequest, segments: readonly string[], slash: boolean): SluiceResponse | null {
    if (isInternal(req)) return null;
    let location = this.cfg.prefix + encodeSegments(segments);
    if (slash && segments.length > 0) location += '/';
    if (req.query !== '') location += '?' + req.query;
    return textResponse(301, 'Moved Permanently\n', { Location: location });
  }

  async resolve(req: SluiceRequest, isHead: boolean): Promise<SluiceResponse> {
    const { cfg, cache, base, rootReal } = this;
    cache.counters.misses++;
    const raw = req.path;
    let rel = raw;
    if (cfg.prefix !== '') {
      if (raw === cfg.prefix) {
        rel = '/';
        const r = cfg.trailingSlash !== false ? this.redirect(req, [], true) : null;
        if (r !== null) return r;
      } else if (raw.startsWith(cfg.prefix) && raw.charCodeAt(cfg.prefix.length) === 0x2f /* / */) {
        rel = raw.slice(cfg.prefix.length);
      } else {
        return this.notFound();
      }
    }
    const parsed = parsePath(rel, cfg.dotfiles);
    if (parsed === 400) return BAD_REQUEST;
    if (parsed === 414) return URI_TOO_LONG;
    if (parsed === 404) return this.notFound();
    const { segments, trailingSlash } = parsed;
    // Compared without case: on a case-insensitive file system /SLUICE.JSON is the same file.
    if (segments.length === 1 && cfg.hide.size > 0 && cfg.hide.has(segments[0]!.toLowerCase())) return this.notFound();
    const logical = segments.length === 0 ? rootReal : base + '/' + segments.join('/');
    const st = await statOrMissing(logical);

    if (st !== undefined && st.isDirectory()) {
      let real: string;
      try {
        real = await fsp.realpath(logical);
      } catch (err) {
        missingOrThrow('realpath', logical, err);
        return this.notFound();
      }
      if (!this.inside(real)) return this.notFound();
      if (segments.length > 0) {
        const r = !trailingSlash && cfg.trailingSlash !== false ? this.redirect(req, segments, true)
          : trailingSlash && cfg.trailingSlash === false ? this.redirect(req, segments, false) : null;
        if (r !== null) return r;
      }
      const names = cfg.indexNames;
      for (let i = 0; i < names.length; i++) {
        const p = logical === rootReal ? base + '/' + names[i] : logical + '/' + names[i];
        const e = await cache.loadFile(p, p);
        if (e !== null) {
          // A later index name is only valid while the earlier ones are missing: don't cache that.
          if (i === 0) cache.remember(raw, e);
          return this.serveEntry(req, e, isHead);
        }
      }
      if (cfg.list) {
        let entries;
        try {
          entries = await readListing(real, cfg.dotfiles, this.inside);
        } catch (err) {
          missingOrThrow('readdir', real, err); // an unreadable folder is "not found"; EMFILE is not
          return this.notFound();
        }
        return listingResponse(req, cfg.prefix, segments, entries);
      }
      return this.notFound(NO_INDEX);
    }

    const last = segments[segments.length - 1];
    if (st !== undefined && st.isFile() && !trailingSlash) {
      if (cfg.cleanUrls && last !== undefined && last.endsWith('.html')) {
        // /about.html → /about, /docs/index.html → /docs/ (unless that name is something else).
        const bare = [...segments.slice(0, -1), last.slice(0, -5)];
        const r = cfg.indexNames.includes(last) ? this.redirect(req, segments.slice(0, -1), true)
          : bare[bare.length - 1] !== '' && (await statOrMissing(base + '/' + bare.join('/'))) === undefined
            ? this.redirect(req, bare, cfg.trailingSlash === true) : null;
        if (r !== null) return r;
      }
      const e = await cache.loadFile(logical, logical);
      if (e !== null) {
        cache.remember(raw, e);
        return this.serveEntry(req, e, isHead);
      }
    }

    if (cfg.cleanUrls && st === undefined && last !== undefined && !last.endsWith('.html')) {
      const p = logical + '.html';
      const e = await cache.loadFile(p, p);
      if (e !== null) {
        // Not remembered for the hot path: a file or folder named `last` would take precedence.
        const r = trailingSlash && cfg.trailingSlash !== true ? this.redirect(req, segments, false)
          : !trailingSlash && cfg.trailingSlash === true ? this.redirect(req, segments, true) : null;
        if (r !== null) return r;
        return this.serveEntry(req, e, isHead);
      }
    }

    if (cfg.single && hasNoExtension(segments)) {
      for (const name of cfg.indexNames) {
        const p = base + '/' + name;
        const e = await cache.loadFile(p, p);
        if (e !== null) return this.serveEntry(req, e, isHead);
      }
    }
    return this.notFound();
  }
}
