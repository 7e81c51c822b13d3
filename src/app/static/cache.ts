// The file cache: what the static handler knows about the files it has served.
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
// (File times have sub-millisecond precision and Date.now() does not, so a file written in the
// current millisecond looks slightly "in the future": racyWindowMs 0 must mean no rule at all,
// not "age < 0", or such a file would randomly not be cached.)
//
// Memory: bodies of files up to `maxCachedFileBytes` are kept, bounded in total by
// `memoryCacheBytes` (CLOCK eviction, a cheap LRU approximation: a hit only sets a flag).
import fs, { promises as fsp, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { ResponseHeaders, SluiceResponse } from '../../http/types.js';
import type { Encoding } from './conditional.js';
import { OPEN_FLAGS } from './filestream.js';
import type { StaticConfig } from './options.js';
import { FsUnavailable, missingOrThrow } from './responses.js';
import { contentTypeFor } from './types.js';

const MAX_ENTRIES = 16_384;
const MAX_URLS = 16_384;
const MAX_URL_KEY = 512;
const EMPTY = Buffer.alloc(0);

/** A representation that can be sent: a file as it is, a precompressed sibling, or a compressed copy. */
export interface Rep {
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

export interface FileEntry extends Rep {
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

export function sameFile(e: FileEntry, st: Stats): boolean {
  return st.ino === e.ino && st.size === e.size && st.mtimeMs === e.mtimeMs && st.ctimeMs === e.ctimeMs && st.dev === e.dev;
}

/** statSync that answers undefined for "not found" errors and throws FsUnavailable for the rest. */
export function statSyncOrMissing(p: string): Stats | undefined {
  try {
    return fs.statSync(p, { throwIfNoEntry: false });
  } catch (err) {
    return missingOrThrow('stat', p, err);
  }
}

/** Async stat with the same contract. */
export async function statOrMissing(p: string): Promise<Stats | undefined> {
  try {
    return await fsp.stat(p);
  } catch (err) {
    return missingOrThrow('stat', p, err);
  }
}

/** Reads `size` bytes from the start of a file (fewer if it shrank meanwhile). */
export async function readAll(fh: FileHandle, size: number): Promise<Buffer> {
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

export class FileCache {
  /** Entries by key: the logical path, plus "\0br" / "\0gzip" for precompressed siblings. */
  readonly files = new Map<string, FileEntry>();
  /** Raw request path → entry key, for the hot path (only paths that resolved to a cached file). */
  readonly urls = new Map<string, string>();
  /** Loads in progress, by key. */
  private readonly loading = new Map<string, Promise<FileEntry | null>>();
  cachedBytes = 0;
  readonly counters = { compressions: 0, hits: 0, misses: 0 };

  // Event-loop turns: a file found unchanged by stat is not stat'ed again until the next turn, so
  // a burst of requests read in one turn costs one stat per file. `touch` schedules the bump.
  turn = 1;
  private bumpPending = false;
  private readonly bump = () => {
    this.turn++;
    this.bumpPending = false;
  };

  constructor(private readonly cfg: StaticConfig, private readonly inside: (real: string) => boolean) {}

  touch(): void {
    if (!this.bumpPending) {
      this.bumpPending = true;
      setImmediate(this.bump);
    }
  }

  /** Hot path: the cached entry for a raw request path, when its file is unchanged; else undefined. */
  fresh(rawPath: string): FileEntry | undefined {
    const key = this.urls.get(rawPath);
    if (key === undefined) return undefined;
    const e = this.files.get(key);
    if (e === undefined) return undefined;
    if (e.checked !== this.turn) {
      let st: Stats | undefined;
      try {
        st = statSyncOrMissing(e.logicalPath);
      } catch (err) {
        if (err instanceof FsUnavailable) return undefined; // the slow path reports it
        throw err;
      }
      if (st === undefined || !sameFile(e, st)) {
        if (st === undefined) {
          this.drop(e); // gone: free its memory now (a changed file is replaced by the slow path)
          this.urls.delete(rawPath);
        }
        return undefined;
      }
      e.checked = this.turn;
      this.touch();
    }
    e.ref = true;
    this.counters.hits++;
    return e;
  }

  insert(e: FileEntry): void {
    const old = this.files.get(e.key);
    if (old !== undefined) this.drop(old);
    e.cached = true;
    e.ref = true;
    this.files.set(e.key, e);
    this.cachedBytes += e.bytes;
    this.evict();
  }

  drop(e: FileEntry): void {
    if (!e.cached) return;
    e.cached = false;
    this.cachedBytes -= e.bytes;
    if (this.files.get(e.key) === e) this.files.delete(e.key);
  }

  private evict(): void {
    // CLOCK: the oldest entry goes unless it was used since it last came round (then it gets moved
    // to the back and loses its mark). Ends: every pass over an entry clears its mark.
    const files = this.files;
    while ((this.cachedBytes > this.cfg.memoryCacheBytes || files.size > MAX_ENTRIES) && files.size > 0) {
      const [key, e] = files.entries().next().value as [string, FileEntry];
      files.delete(key);
      if (e.ref) {
        e.ref = false;
        files.set(key, e);
      } else {
        e.cached = false;
        this.cachedBytes -= e.bytes;
      }
    }
  }

  /** Counts `bytes` more memory (a compressed variant) against the entry and the cache. */
  account(e: FileEntry, bytes: number): void {
    e.bytes += bytes;
    if (e.cached) {
      this.cachedBytes += bytes;
      this.evict();
    }
  }

  /** Lets later requests for `rawPath` take the hot path to `e`. */
  remember(rawPath: string, e: FileEntry): void {
    // (Long spellings are not worth a slot: keeps the map's memory small whatever clients send.)
    const urls = this.urls;
    if (!e.cached || rawPath.length > MAX_URL_KEY || urls.has(rawPath)) return;
    if (urls.size >= MAX_URLS) urls.delete(urls.keys().next().value as string);
    urls.set(rawPath, e.key);
  }

  // ---- building entries ----

  makeHeaders(type: string, size: number, etag: string, lastModified: string, encoding: Encoding | null, vary: boolean): ResponseHeaders {
    const h: ResponseHeaders = { 'Content-Type': type };
    if (encoding !== null) h['Content-Encoding'] = encoding;
    h['Content-Length'] = size;
    h['ETag'] = etag;
    h['Last-Modified'] = lastModified;
    if (this.cfg.cacheControl !== '') h['Cache-Control'] = this.cfg.cacheControl;
    h['Accept-Ranges'] = 'bytes';
    if (vary) h['Vary'] = 'Accept-Encoding';
    return Object.freeze(h);
  }

  /**
   * The entry for a file, from the cache when its identity is unchanged, else loaded (realpath
   * check, open, fstat, read when small). null when missing, not a regular file, or outside the
   * root; FsUnavailable when the file system fails otherwise.
   * `of` + `encoding`: a precompressed sibling of that file (served with its type).
   */
  async loadFile(logicalPath: string, key: string, of?: FileEntry, encoding?: Encoding): Promise<FileEntry | null> {
    const st = await statOrMissing(logicalPath);
    if (st === undefined || !st.isFile()) return null;
    const old = this.files.get(key);
    if (old !== undefined && sameFile(old, st)) {
      old.ref = true;
      return old;
    }
    // Concurrent first requests for one file share one load (and so one compression).
    const pending = this.loading.get(key);
    if (pending !== undefined) return pending;
    const p = this.load(logicalPath, key, of, encoding);
    this.loading.set(key, p);
    try {
      return await p;
    } finally {
      this.loading.delete(key);
    }
  }

  private async load(logicalPath: string, key: string, of: FileEntry | undefined, encoding: Encoding | undefined): Promise<FileEntry | null> {
    let real: string;
    try {
      real = await fsp.realpath(logicalPath);
    } catch (err) {
      return missingOrThrow('realpath', logicalPath, err) ?? null;
    }
    if (!this.inside(real)) return null;
    let fh: FileHandle;
    try {
      fh = await fsp.open(real, OPEN_FLAGS);
    } catch (err) {
      return missingOrThrow('open', real, err) ?? null;
    }
    const cfg = this.cfg;
    try {
      const fst = await fh.stat();
      if (!fst.isFile()) return null;
      let racy = cfg.racyWindowMs > 0 && Date.now() - Math.max(fst.mtimeMs, fst.ctimeMs) < cfg.racyWindowMs;
      let size = fst.size;
      let body: Buffer | null = null;
      if (size <= cfg.maxCachedFileBytes || size === 0) {
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
        headers: this.makeHeaders(type, size, etag, lastModified, encoding ?? null, compressible && cfg.varies),
        full: null, head: null as unknown as SluiceResponse, notModified: null as unknown as SluiceResponse,
        source: null as unknown as FileEntry,
        cached: false, ref: false, bytes: body === null ? 0 : body.length, gen: null, notFound: null,
        checked: 0, sib: null,
      } satisfies FileEntry as FileEntry;
      e.source = e;
      finishRep(e);
      if (!racy) this.insert(e);
      return e;
    } catch (err) {
      return missingOrThrow('read', real, err) ?? null;
    } finally {
      await fh.close().catch(() => {});
    }
  }
}

function notModifiedFor(headers: ResponseHeaders): SluiceResponse {
  const h: ResponseHeaders = { ETag: headers['ETag']!, 'Last-Modified': headers['Last-Modified']! };
  if (headers['Cache-Control'] !== undefined) h['Cache-Control'] = headers['Cache-Control'];
  if (headers['Vary'] !== undefined) h['Vary'] = headers['Vary'];
  return Object.freeze({ status: 304, headers: Object.freeze(h), body: null });
}

/** Fills in a representation's frozen responses (200 with body, 200 for HEAD, 304). */
export function finishRep<T extends Rep>(r: T): T {
  r.full = r.body === null ? null : Object.freeze({ status: 200, headers: r.headers, body: r.body });
  r.head = Object.freeze({ status: 200, headers: r.headers, body: null });
  r.notModified = notModifiedFor(r.headers);
  return r;
}
