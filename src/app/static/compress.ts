// Compressed representations: `name.br` / `name.gz` next to a file are served to clients that
// accept them (with their own ETag and Content-Encoding; Vary: Accept-Encoding on every response
// for a compressible type). With `compress`, compressible files of `compressMinBytes` to
// `compressMaxBytes` are also compressed on the fly, once: the result is kept on the file's entry
// (so keyed by path + identity + encoding) and counted in `memoryCacheBytes`.
import { promises as fsp } from 'node:fs';
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import type { SluiceResponse } from '../../http/types.js';
import { FileCache, finishRep, readAll, sameFile, statSyncOrMissing, type FileEntry, type Rep } from './cache.js';
import type { Encoding } from './conditional.js';
import { OPEN_FLAGS } from './filestream.js';
import type { StaticConfig } from './options.js';
import { FsUnavailable } from './responses.js';

const gzip = promisify(zlib.gzip);
const brotli = promisify(zlib.brotliCompress);
const EXT: Record<Encoding, string> = { br: '.br', gzip: '.gz' };

export class Encoder {
  constructor(private readonly cfg: StaticConfig, private readonly cache: FileCache) {}

  /** Sync choice of an encoded representation: a Rep, null (send identity), or undefined (needs I/O). */
  pickSync(e: FileEntry, encs: readonly Encoding[]): Rep | null | undefined {
    const { cfg, cache } = this;
    for (const enc of encs) {
      if (cfg.precompressed) {
        const memo = e.sib?.[enc];
        let s: FileEntry | null;
        if (memo !== undefined && memo.turn === cache.turn) {
          s = memo.entry;
        } else {
          let st;
          try {
            st = statSyncOrMissing(e.logicalPath + EXT[enc]);
          } catch (err) {
            if (err instanceof FsUnavailable) return undefined; // the async path reports it
            throw err;
          }
          if (st === undefined || !st.isFile()) {
            s = null;
          } else {
            const c = cache.files.get(e.key + '\0' + enc);
            if (c === undefined || !sameFile(c, st)) return undefined; // (re)load it
            s = c;
          }
          (e.sib ??= {})[enc] = { turn: cache.turn, entry: s };
          cache.touch();
        }
        if (s !== null) {
          if (!s.cached) return undefined;
          s.ref = true;
          return s;
        }
      }
      if (cfg.compress && e.size >= cfg.compressMin && e.size <= cfg.compressMax) {
        const g = e.gen?.[enc];
        if (g === null) continue;
        if (g === undefined || g instanceof Promise) return undefined;
        return g;
      }
    }
    return null;
  }

  async pick(e: FileEntry, encs: readonly Encoding[]): Promise<Rep | null> {
    const { cfg, cache } = this;
    for (const enc of encs) {
      if (cfg.precompressed) {
        const s = await cache.loadFile(e.logicalPath + EXT[enc], e.key + '\0' + enc, e, enc);
        if (s !== null) return s;
      }
      if (cfg.compress && e.size >= cfg.compressMin && e.size <= cfg.compressMax) {
        const g = await this.generate(e, enc);
        if (g !== null) return g;
      }
    }
    return null;
  }

  /** The compressed copy of a file (made once per entry), or null when it does not shrink it. */
  private generate(e: FileEntry, enc: Encoding): Rep | null | Promise<Rep | null> {
    const cache = this.cache;
    const gen = (e.gen ??= {});
    const have = gen[enc];
    if (have !== undefined) return have;
    const p = (async (): Promise<Rep | null> => {
      let src = e.body;
      if (src === null) {
        const fh = await fsp.open(e.realPath, OPEN_FLAGS);
        try {
          if (!sameFile(e, await fh.stat())) throw new Error('changed');
          src = await readAll(fh, e.size);
        } finally {
          await fh.close();
        }
        if (src.length !== e.size) throw new Error('changed');
      }
      cache.counters.compressions++;
      const out = enc === 'br'
        ? await brotli(src, {
            params: {
              [zlib.constants.BROTLI_PARAM_QUALITY]: 5,
              [zlib.constants.BROTLI_PARAM_SIZE_HINT]: src.length,
            },
          })
        : await gzip(src, { level: 6 });
      // Not worth a Content-Encoding (and a Vary'd cache entry) for less than ~3% gain.
      if (out.length > src.length - Math.max(64, src.length >> 5)) return null;
      const etag = e.etag.slice(0, -1) + `-${enc}"`;
      return finishRep({
        size: out.length, body: out, etag, lastModified: e.lastModified, mtimeSec: e.mtimeSec,
        headers: cache.makeHeaders(e.type, out.length, etag, e.lastModified, enc, true),
        full: null, head: null as unknown as SluiceResponse, notModified: null as unknown as SluiceResponse,
        source: e,
      });
    })();
    gen[enc] = p;
    return p.then(
      (r) => {
        if (e.gen === gen) gen[enc] = r;
        if (r !== null) cache.account(e, r.size);
        return r;
      },
      () => {
        // The file changed (the entry will be replaced) or could not be read: send it as it is.
        if (gen[enc] === p) delete gen[enc];
        return null;
      },
    );
  }
}
