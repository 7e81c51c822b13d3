// Static file handler (issue 4): `serveStatic(root, options)` answers GET and HEAD from a folder.
//
// Behaviour: a file → 200 (or 304 / 206 / 416 / 412 by the request's conditions and Range); a
// folder → its first existing `index` file, "/dir" → 301 "/dir/" (query kept, Location always
// one leading "/"), a listing with `list`; anything missing → the root's 404.html with status 404
// when it exists, else a plain-text 404; with `single`, missing paths without an extension get
// the root's index file (200). Other methods → 405 with Allow: GET, HEAD. Malformed paths
// (bad percent-encoding, invalid UTF-8, "." / ".." segments, encoded "/" or "\", NUL) → 400;
// hidden dotfiles, names over 255 bytes, symlinks leading out of the root, anything that is not
// a regular file → 404; paths over 4096 bytes → 414 (paths.ts).
//
// Freshness — stat per request, no fs.watch. A file is looked up the slow way once (decode and
// check the path, stat, realpath to make sure it is inside the root, open, read) and the result
// is kept as an entry: the file's identity (dev, ino, size, mtime, ctime), its body when it is
// small, and its response headers and response objects, computed once. Each later request for
// the same raw path costs one Map lookup and one fs.statSync of the path: when the identity is
// unchanged the entry is served as it is (no decoding, no realpath: the same inode was checked to
// be inside the root when the entry was made); when anything changed the request goes the slow
// way and the entry is replaced. So a file changed on disk is served new at once.
//
// statSync rather than an async stat: on a local file system it is one system call answered from
// the kernel's inode cache, where the async one costs a round trip through libuv's thread pool.
// (On a slow network file system this blocks the event loop for the length of one stat.) And at
// most one stat per file per event-loop turn: requests read in the same turn (a burst from many
// connections under load) share it. So "at once" means: every request read in a later turn of the
// event loop than the change sees the new file.
//
// Racy files: file-system timestamps have a coarse granularity (a few ms on Linux, 2 s on FAT),
// so a file rewritten in place twice within one tick, with the same size, keeps its identity.
// As in git's "racy git" rule, a file whose mtime or ctime is less than `racyWindowMs` old is
// served but not cached; once it is older than that, any later change is visible to stat.
//
// Memory: bodies of files up to `maxCachedFileBytes` are kept, bounded in total by
// `memoryCacheBytes` (CLOCK eviction, a cheap LRU approximation: a hit only sets a flag).
// Larger files stream with backpressure (`highWaterMark` bytes per read) from a FileRangeStream
// (filestream.ts), which opens the file only when the engine first reads the body, checks with
// fstat that it is still the inode the head describes, and closes it when the stream ends or is
// destroyed (the engine destroys the body when the client goes away, or never reads it).
//
// Compression: `name.br` / `name.gz` next to a file are served to clients that accept them
// (with their own ETag and Content-Encoding; Vary: Accept-Encoding on every response for a
// compressible type). With `compress`, compressible files of `compressMinBytes` to
// `compressMaxBytes` are also compressed on the fly, once: the result is kept on the file's
// entry (so keyed by path + identity + encoding) and counted in `memoryCacheBytes`.
import fs, { promises as fsp, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import type { Handler, ResponseHeaders, SluiceRequest, SluiceResponse } from '../../http/types.js';
import {
  acceptedEncodings, ifRangeMatches, matchesStrong, matchesWeak, parseHttpDate, parseRange,
  UNSATISFIABLE, type ByteRange, type Encoding,
} from './conditional.js';
import { encodeSegments, hasNoExtension, parsePath } from './paths.js';
import { contentTypeFor } from './types.js';
import { readListing, renderListing } from './listing.js';
import { FileRangeStream, OPEN_FLAGS } from './filestream.js';

export interface StaticOptions {
  /** Index file(s) served for a directory, first found wins. Default ['index.html']. */
  index?: string[];
  /** Cache-Control header value for files ('' to send none). Default 'public, max-age=0, must-revalidate'. */
  cacheControl?: string;
  /** On-the-fly gzip/brotli of compressible types above a threshold. Default false. */
  compress?: boolean;
  /** Single-page app: unknown paths without an extension get the root's index file. Default false. */
  single?: boolean;
  /** HTML directory listing for folders without an index. Default false. */
  list?: boolean;
  /** Serve dotfiles (and dot-folders). Default false (hidden: 404). */
  dotfiles?: boolean;
  /** Bytes of file bodies (and compressed variants) kept in memory, in total. Default 64 MiB. */
  memoryCacheBytes?: number;
  /** Files up to this size are kept in memory; larger ones are streamed. Default 1 MiB. */
  maxCachedFileBytes?: number;
  /** Serve `name.br` / `name.gz` next to a file when the client accepts them. Default true. */
  precompressed?: boolean;
  /** Smallest file compressed on the fly (with `compress`). Default 1024. */
  compressMinBytes?: number;
  /** Largest file compressed on the fly; larger ones are sent as they are. Default 8 MiB. */
  compressMaxBytes?: number;
  /** Files modified less than this long ago are served but not cached (see top of module). Default 2000 ms. */
  racyWindowMs?: number;
  /** Read size when streaming a file. Default 64 KiB. */
  highWaterMark?: number;
}

export const DEFAULT_CACHE_CONTROL = 'public, max-age=0, must-revalidate';
const MAX_ENTRIES = 16_384;
const MAX_URLS = 16_384;
const MAX_URL_KEY = 512;

/** A representation that can be sent: a file as it is, a precompressed sibling, or a compressed copy. */
interface Rep {
  size: number;
  /** The bytes, when in memory; null → stream from `source`. */
  body: Buffer | null;
  etag: string;
  lastModified: string;
  mtimeSec: number;
  /** 200 headers (frozen). */
  headers: ResponseHeaders;
  /** Frozen 200 response with the body (null when the body is streamed). */
  full: SluiceResponse | null;
  /** Frozen 200 response without a body, for HEAD of a streamed file. */
  head: SluiceResponse;
  notModified: SluiceResponse;
  source: FileEntry;
}

interface FileEntry extends Rep {
  key: string;
  /** Root + decoded segments: what the hot path stats (following symlinks, like open would). */
  logicalPath: string;
  /** realpath, checked to be inside the root; what gets opened. */
  realPath: string;
  dev: number;
  ino: number;
  mtimeMs: number;
  ctimeMs: number;
  type: string;
  compressible: boolean;
  /** In the entry map (false: evicted, replaced, or never cached because racy). */
  cached: boolean;
  /** CLOCK reference bit. */
  ref: boolean;
  /** Bytes counted against memoryCacheBytes (body + compressed variants). */
  bytes: number;
  /** On-the-fly compressed variants: a Rep, null when not worth it, a Promise while compressing. */
  gen: Partial<Record<Encoding, Rep | null | Promise<Rep | null>>> | null;
  notFound: SluiceResponse | null;
  /** Event-loop turn in which the file was last found unchanged by stat. */
  checked: number;
  /** Precompressed siblings found (or found missing) by stat, per encoding, and the turn when that was. */
  sib: Partial<Record<Encoding, { turn: number; entry: FileEntry | null }>> | null;
}

/** Counters, for tests and diagnostics. */
export interface StaticStats {
  entries: number;
  cachedBytes: number;
  urls: number;
  compressions: number;
  hits: number;
  misses: number;
}

const statsOf = new WeakMap<Handler, () => StaticStats>();

/** Internal counters of a handler made by serveStatic (undefined for any other handler). */
export function staticStats(handler: Handler): StaticStats | undefined {
  return statsOf.get(handler)?.();
}

const gzip = promisify(zlib.gzip);
const brotli = promisify(zlib.brotliCompress);
const EXT: Record<Encoding, string> = { br: '.br', gzip: '.gz' };
const EMPTY = Buffer.alloc(0);

function textResponse(status: number, text: string, extra: ResponseHeaders = {}): SluiceResponse {
  const body = Buffer.from(text);
  return Object.freeze({
    status,
    headers: Object.freeze({ 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length, ...extra }),
    body,
  });
}

const BAD_REQUEST = textResponse(400, 'Bad Request\n');
const NOT_FOUND = textResponse(404, 'Not Found\n');
const METHOD_NOT_ALLOWED = textResponse(405, 'Method Not Allowed\n', { Allow: 'GET, HEAD' });
const PRECONDITION_FAILED = textResponse(412, 'Precondition Failed\n');
const URI_TOO_LONG = textResponse(414, 'URI Too Long\n');

function sameFile(e: FileEntry, st: Stats): boolean {
  return st.ino === e.ino && st.size === e.size && st.mtimeMs === e.mtimeMs && st.ctimeMs === e.ctimeMs && st.dev === e.dev;
}

function statSyncSafe(p: string): Stats | undefined {
  try {
    return fs.statSync(p, { throwIfNoEntry: false });
  } catch {
    return undefined; // ENOTDIR, ENAMETOOLONG, EACCES…: let the slow path decide
  }
}

async function statSafe(p: string): Promise<Stats | undefined> {
  try {
    return await fsp.stat(p);
  } catch {
    return undefined;
  }
}

/** Reads `size` bytes from the start of a file (fewer if it shrank meanwhile). */
async function readAll(fh: FileHandle, size: number): Promise<Buffer> {
  if (size === 0) return EMPTY;
  const buf = Buffer.allocUnsafeSlow(size);
  let off = 0;
  while (off < size) {
    const { bytesRead } = await fh.read(buf, off, size - off, off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
  return off === size ? buf : buf.subarray(0, off);
}

export function serveStatic(root: string, options: StaticOptions = {}): Handler {
  const indexNames = options.index ?? ['index.html'];
  const cacheControl = options.cacheControl ?? DEFAULT_CACHE_CONTROL;
  const compress = options.compress ?? false;
  const single = options.single ?? false;
  const list = options.list ?? false;
  const dotfiles = options.dotfiles ?? false;
  const memoryCacheBytes = Math.max(0, options.memoryCacheBytes ?? 64 * 1024 * 1024);
  const maxCachedFileBytes = Math.min(Math.max(0, options.maxCachedFileBytes ?? 1024 * 1024), memoryCacheBytes);
  const precompressed = options.precompressed ?? true;
  const compressMin = options.compressMinBytes ?? 1024;
  const compressMax = Math.min(options.compressMaxBytes ?? 8 * 1024 * 1024, 2 ** 31 - 1);
  const racyWindowMs = options.racyWindowMs ?? 2000;
  const highWaterMark = options.highWaterMark ?? 64 * 1024;
  const varies = compress || precompressed;

  let rootReal: string;
  try {
    rootReal = fs.realpathSync(path.resolve(root));
  } catch {
    throw new Error(`serveStatic: ${root}: no such directory`);
  }
  if (!fs.statSync(rootReal).isDirectory()) throw new Error(`serveStatic: ${root}: not a directory`);
  const base = rootReal === path.sep ? '' : rootReal;
  const rootPrefix = base + path.sep;
  const inside = (real: string) => real === rootReal || real.startsWith(rootPrefix);

  /** Entries by key: the logical path, plus "\0br" / "\0gzip" for precompressed siblings. */
  const files = new Map<string, FileEntry>();
  /** Raw request path → entry key, for the hot path (only paths that resolved to a cached file). */
  const urls = new Map<string, string>();
  /** Loads in progress, by key. */
  const loading = new Map<string, Promise<FileEntry | null>>();
  let cachedBytes = 0;
  const counters = { compressions: 0, hits: 0, misses: 0 };

  // Event-loop turns: a file found unchanged by stat is not stat'ed again until the next turn, so
  // a burst of requests read in one turn costs one stat per file. `touch` schedules the bump.
  let turn = 1;
  let bumpPending = false;
  const bump = () => {
    turn++;
    bumpPending = false;
  };
  const touch = () => {
    if (!bumpPending) {
      bumpPending = true;
      setImmediate(bump);
    }
  };

  // ---- the entry cache ----

  function insert(e: FileEntry): void {
    const old = files.get(e.key);
    if (old !== undefined) drop(old);
    e.cached = true;
    e.ref = true;
    files.set(e.key, e);
    cachedBytes += e.bytes;
    evict();
  }

  function drop(e: FileEntry): void {
    if (!e.cached) return;
    e.cached = false;
    cachedBytes -= e.bytes;
    if (files.get(e.key) === e) files.delete(e.key);
  }

  function evict(): void {
    // CLOCK: the oldest entry goes unless it was used since it last came round (then it gets moved
    // to the back and loses its mark). Ends: every pass over an entry clears its mark.
    while ((cachedBytes > memoryCacheBytes || files.size > MAX_ENTRIES) && files.size > 0) {
      const [key, e] = files.entries().next().value as [string, FileEntry];
      files.delete(key);
      if (e.ref) {
        e.ref = false;
        files.set(key, e);
      } else {
        e.cached = false;
        cachedBytes -= e.bytes;
      }
    }
  }

  function account(e: FileEntry, bytes: number): void {
    e.bytes += bytes;
    if (e.cached) {
      cachedBytes += bytes;
      evict();
    }
  }

  function remember(rawPath: string, e: FileEntry): void {
    // (Long spellings are not worth a slot: keeps the map's memory small whatever clients send.)
    if (!e.cached || rawPath.length > MAX_URL_KEY || urls.has(rawPath)) return;
    if (urls.size >= MAX_URLS) urls.delete(urls.keys().next().value as string);
    urls.set(rawPath, e.key);
  }

  // ---- building entries ----

  function makeHeaders(type: string, size: number, etag: string, lastModified: string, encoding: Encoding | null, vary: boolean): ResponseHeaders {
    const h: ResponseHeaders = { 'Content-Type': type };
    if (encoding !== null) h['Content-Encoding'] = encoding;
    h['Content-Length'] = size;
    h['ETag'] = etag;
    h['Last-Modified'] = lastModified;
    if (cacheControl !== '') h['Cache-Control'] = cacheControl;
    h['Accept-Ranges'] = 'bytes';
    if (vary) h['Vary'] = 'Accept-Encoding';
    return Object.freeze(h);
  }

  function notModifiedFor(headers: ResponseHeaders): SluiceResponse {
    const h: ResponseHeaders = { ETag: headers['ETag']!, 'Last-Modified': headers['Last-Modified']! };
    if (headers['Cache-Control'] !== undefined) h['Cache-Control'] = headers['Cache-Control'];
    if (headers['Vary'] !== undefined) h['Vary'] = headers['Vary'];
    return Object.freeze({ status: 304, headers: Object.freeze(h), body: null });
  }

  function finishRep<T extends Rep>(r: T): T {
    r.full = r.body === null ? null : Object.freeze({ status: 200, headers: r.headers, body: r.body });
    r.head = Object.freeze({ status: 200, headers: r.headers, body: null });
    r.notModified = notModifiedFor(r.headers);
    return r;
  }

  /**
   * The entry for a file, from the cache when its identity is unchanged, else loaded (realpath
   * check, open, fstat, read when small). null when missing, not a regular file, or outside the root.
   * `of` + `encoding`: a precompressed sibling of that file (served with its type).
   */
  async function loadFile(logicalPath: string, key: string, of?: FileEntry, encoding?: Encoding): Promise<FileEntry | null> {
    const st = await statSafe(logicalPath);
    if (st === undefined || !st.isFile()) return null;
    const old = files.get(key);
    if (old !== undefined && sameFile(old, st)) {
      old.ref = true;
      return old;
    }
    // Concurrent first requests for one file share one load (and so one compression).
    const pending = loading.get(key);
    if (pending !== undefined) return pending;
    const p = load(logicalPath, key, of, encoding);
    loading.set(key, p);
    try {
      return await p;
    } finally {
      loading.delete(key);
    }
  }

  async function load(logicalPath: string, key: string, of: FileEntry | undefined, encoding: Encoding | undefined): Promise<FileEntry | null> {
    let real: string;
    try {
      real = await fsp.realpath(logicalPath);
    } catch {
      return null;
    }
    if (!inside(real)) return null;
    let fh: FileHandle;
    try {
      fh = await fsp.open(real, OPEN_FLAGS);
    } catch {
      return null;
    }
    try {
      const fst = await fh.stat();
      if (!fst.isFile()) return null;
      let racy = Date.now() - Math.max(fst.mtimeMs, fst.ctimeMs) < racyWindowMs;
      let size = fst.size;
      let body: Buffer | null = null;
      if (size <= maxCachedFileBytes || size === 0) {
        body = await readAll(fh, size);
        if (body.length !== size) {
          racy = true; // shrank while we read: serve what we got, cache nothing
          size = body.length;
        }
      }
      const { type, compressible } = of !== undefined ? of : contentTypeFor(logicalPath);
      const mtimeSec = Math.floor(fst.mtimeMs / 1000);
      const suffix = encoding === undefined ? '' : `-${encoding}`;
      const etag = `"${Math.round(fst.mtimeMs * 1000).toString(16)}-${size.toString(16)}${suffix}"`;
      const lastModified = new Date(mtimeSec * 1000).toUTCString();
      const e = {
        key, logicalPath, realPath: real,
        dev: fst.dev, ino: fst.ino, size, mtimeMs: fst.mtimeMs, ctimeMs: fst.ctimeMs,
        type, compressible, body, etag, lastModified, mtimeSec,
        headers: makeHeaders(type, size, etag, lastModified, encoding ?? null, compressible && varies),
        full: null, head: null as unknown as SluiceResponse, notModified: null as unknown as SluiceResponse,
        source: null as unknown as FileEntry,
        cached: false, ref: false, bytes: body === null ? 0 : body.length, gen: null, notFound: null,
        checked: 0, sib: null,
      } satisfies FileEntry as FileEntry;
      e.source = e;
      finishRep(e);
      if (!racy) insert(e);
      return e;
    } catch {
      return null;
    } finally {
      await fh.close().catch(() => {});
    }
  }

  // ---- choosing the representation ----

  /** Sync choice of an encoded representation: a Rep, null (send identity), or undefined (needs I/O). */
  function pickEncodedSync(e: FileEntry, encs: readonly Encoding[]): Rep | null | undefined {
    for (const enc of encs) {
      if (precompressed) {
        const memo = e.sib?.[enc];
        let s: FileEntry | null;
        if (memo !== undefined && memo.turn === turn) {
          s = memo.entry;
        } else {
          const st = statSyncSafe(e.logicalPath + EXT[enc]);
          if (st === undefined || !st.isFile()) {
            s = null;
          } else {
            const c = files.get(e.key + '\0' + enc);
            if (c === undefined || !sameFile(c, st)) return undefined; // (re)load it
            s = c;
          }
          (e.sib ??= {})[enc] = { turn, entry: s };
          touch();
        }
        if (s !== null) {
          if (!s.cached) return undefined;
          s.ref = true;
          return s;
        }
      }
      if (compress && e.size >= compressMin && e.size <= compressMax) {
        const g = e.gen?.[enc];
        if (g === null) continue;
        if (g === undefined || g instanceof Promise) return undefined;
        return g;
      }
    }
    return null;
  }

  async function pickEncoded(e: FileEntry, encs: readonly Encoding[]): Promise<Rep | null> {
    for (const enc of encs) {
      if (precompressed) {
        const s = await loadFile(e.logicalPath + EXT[enc], e.key + '\0' + enc, e, enc);
        if (s !== null) return s;
      }
      if (compress && e.size >= compressMin && e.size <= compressMax) {
        const g = await generate(e, enc);
        if (g !== null) return g;
      }
    }
    return null;
  }

  /** The compressed copy of a file (made once per entry), or null when it does not shrink it. */
  function generate(e: FileEntry, enc: Encoding): Rep | null | Promise<Rep | null> {
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
      counters.compressions++;
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
        headers: makeHeaders(e.type, out.length, etag, e.lastModified, enc, true),
        full: null, head: null as unknown as SluiceResponse, notModified: null as unknown as SluiceResponse,
        source: e,
      });
    })();
    gen[enc] = p;
    return p.then(
      (r) => {
        if (e.gen === gen) gen[enc] = r;
        if (r !== null) account(e, r.size);
        return r;
      },
      () => {
        if (gen[enc] === p) delete gen[enc]; // the file changed: the entry will be replaced
        return null;
      },
    );
  }

  // ---- answering ----

  function serveEntry(req: SluiceRequest, e: FileEntry, isHead: boolean): SluiceResponse | Promise<SluiceResponse> {
    if (e.compressible && varies) {
      const ae = req.headers.get('accept-encoding');
      if (ae !== undefined && ae !== '') {
        const encs = acceptedEncodings(ae);
        if (encs.length > 0) {
          const r = pickEncodedSync(e, encs);
          if (r === undefined) return pickEncoded(e, encs).then((rep) => finish(req, rep ?? e, isHead));
          if (r !== null) return finish(req, r, isHead);
        }
      }
    }
    return finish(req, e, isHead);
  }

  /** Preconditions, Range, then the response: synchronous (a streamed body opens its file on first read). */
  function finish(req: SluiceRequest, rep: Rep, isHead: boolean): SluiceResponse {
    const h = req.headers;
    // Preconditions in RFC 9110 §13.2.2 order.
    const im = h.get('if-match');
    if (im !== undefined) {
      if (!matchesStrong(im, rep.etag)) return PRECONDITION_FAILED;
    } else {
      const ius = h.get('if-unmodified-since');
      if (ius !== undefined) {
        const d = parseHttpDate(ius);
        if (!Number.isNaN(d) && rep.mtimeSec > d) return PRECONDITION_FAILED;
      }
    }
    const inm = h.get('if-none-match');
    if (inm !== undefined) {
      if (matchesWeak(inm, rep.etag)) return rep.notModified;
    } else {
      const ims = h.get('if-modified-since');
      if (ims !== undefined) {
        const d = parseHttpDate(ims);
        if (!Number.isNaN(d) && rep.mtimeSec <= d && d * 1000 <= Date.now()) return rep.notModified;
      }
    }
    const range = h.get('range');
    if (range !== undefined) {
      const ifRange = h.get('if-range');
      if (ifRange === undefined || ifRangeMatches(ifRange, rep.etag, rep.mtimeSec)) {
        const r = parseRange(range, rep.size);
        if (r === UNSATISFIABLE) return textResponse(416, 'Range Not Satisfiable\n', { 'Content-Range': `bytes */${rep.size}`, 'Accept-Ranges': 'bytes' });
        if (r !== null) return partial(rep, r, isHead);
      }
    }
    if (rep.full !== null) return rep.full;
    if (isHead) return rep.head;
    return stream(rep, 0, rep.size - 1, 200, rep.headers);
  }

  function partial(rep: Rep, r: ByteRange, isHead: boolean): SluiceResponse {
    const headers: ResponseHeaders = { ...rep.headers, 'Content-Length': r.end - r.start + 1, 'Content-Range': `bytes ${r.start}-${r.end}/${rep.size}` };
    if (isHead) return { status: 206, headers, body: null };
    if (rep.body !== null) return { status: 206, headers, body: rep.body.subarray(r.start, r.end + 1) };
    return stream(rep, r.start, r.end, 206, headers);
  }

  /** Streams [start, end] of the file (opened when the engine first reads the body). */
  function stream(rep: Rep, start: number, end: number, status: number, headers: ResponseHeaders): SluiceResponse {
    const e = rep.source;
    return { status, headers, body: new FileRangeStream(e.realPath, e, start, end, highWaterMark) };
  }

  async function notFound(): Promise<SluiceResponse> {
    const e = await loadFile(base + '/404.html', base + '/404.html');
    if (e === null) return NOT_FOUND;
    if (e.notFound !== null) return e.notFound;
    let body = e.body;
    if (body === null) {
      try {
        body = await fsp.readFile(e.realPath);
      } catch {
        return NOT_FOUND;
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

  /** The slow way: decode and check the path, find the file (or index, listing, fallback). */
  async function resolve(req: SluiceRequest, isHead: boolean): Promise<SluiceResponse> {
    counters.misses++;
    const raw = req.path;
    const parsed = parsePath(raw, dotfiles);
    if (parsed === 400) return BAD_REQUEST;
    if (parsed === 414) return URI_TOO_LONG;
    if (parsed === 404) return notFound();
    const { segments, trailingSlash } = parsed;
    const logical = segments.length === 0 ? rootReal : base + '/' + segments.join('/');
    const st = await statSafe(logical);
    if (st !== undefined && st.isDirectory()) {
      let real: string;
      try {
        real = await fsp.realpath(logical);
      } catch {
        return notFound();
      }
      if (!inside(real)) return notFound();
      if (!trailingSlash) {
        // Built from the decoded segments, so always exactly one leading "/" (never "//host").
        const location = encodeSegments(segments) + '/' + (req.query !== '' ? '?' + req.query : '');
        return textResponse(301, 'Moved Permanently\n', { Location: location });
      }
      for (let i = 0; i < indexNames.length; i++) {
        const p = logical === rootReal ? base + '/' + indexNames[i] : logical + '/' + indexNames[i];
        const e = await loadFile(p, p);
        if (e !== null) {
          // A later index name is only valid while the earlier ones are missing: don't cache that.
          if (i === 0) remember(raw, e);
          return serveEntry(req, e, isHead);
        }
      }
      if (list) {
        try {
          const entries = await readListing(real, dotfiles);
          const html = renderListing(segments.length === 0 ? '/' : '/' + segments.join('/') + '/', entries);
          return { status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' }, body: html };
        } catch {
          return notFound();
        }
      }
      return notFound();
    }
    if (st !== undefined && st.isFile() && !trailingSlash) {
      const e = await loadFile(logical, logical);
      if (e !== null) {
        remember(raw, e);
        return serveEntry(req, e, isHead);
      }
    }
    if (single && hasNoExtension(segments)) {
      for (const name of indexNames) {
        const p = base + '/' + name;
        const e = await loadFile(p, p);
        if (e !== null) return serveEntry(req, e, isHead);
      }
    }
    return notFound();
  }

  const handler: Handler = (req) => {
    const method = req.method;
    const isHead = method === 'HEAD';
    if (!isHead && method !== 'GET') return METHOD_NOT_ALLOWED;
    // Hot path: a path seen before, whose file has not changed.
    const key = urls.get(req.path);
    if (key !== undefined) {
      const e = files.get(key);
      if (e !== undefined) {
        let fresh = e.checked === turn;
        if (!fresh) {
          const st = statSyncSafe(e.logicalPath);
          fresh = st !== undefined && sameFile(e, st);
          if (fresh) {
            e.checked = turn;
            touch();
          } else if (st === undefined) {
            drop(e); // gone: free its memory now (a changed file is replaced by the slow path)
            urls.delete(req.path);
          }
        }
        if (fresh) {
          e.ref = true;
          counters.hits++;
          return serveEntry(req, e, isHead);
        }
      }
    }
    return resolve(req, isHead);
  };
  statsOf.set(handler, () => ({
    entries: files.size, cachedBytes, urls: urls.size, ...counters,
  }));
  return handler;
}
