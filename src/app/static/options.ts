// The static handler's options, and their resolved form (defaults applied, bounds checked once).

export interface StaticOptions {
  /** Index file(s) served for a directory, first found wins. Default ['index.html']. */
  index?: string[];
  /** Cache-Control header value for files ('' to send none). Default 'public, max-age=0, must-revalidate'. */
  cacheControl?: string;
  /** On-the-fly gzip/brotli of compressible types above a threshold. Default false. */
  compress?: boolean;
  /** Single-page app: unknown paths without an extension get the root's index file. Default false. */
  single?: boolean;
  /** Directory listing (HTML, or JSON with ?format=json / Accept: application/json) for folders without an index. Default false. */
  list?: boolean;
  /** Serve dotfiles (and dot-folders). Default false (hidden: 404). */
  dotfiles?: boolean;
  /** Clean URLs: /about serves about.html, and /about.html redirects (301) to /about. Default false. */
  cleanUrls?: boolean;
  /**
   * Trailing-slash policy. undefined (default): folders get one (/dir → 301 /dir/), files don't.
   * true: extension-less paths get one (/about → 301 /about/). false: none (/dir/ → 301 /dir).
   */
  trailingSlash?: boolean;
  /** Serve the folder under this URL path ("/files": /files/a.txt is root/a.txt; anything else → 404). Default ''. */
  prefix?: string;
  /** Root-level names answered 404 although they exist (the site's own config file). Default []. */
  hide?: string[];
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
  /** Files modified less than this long ago are served but not cached (see cache.ts); 0 turns the rule off. Default 2000 ms. */
  racyWindowMs?: number;
  /** Read size when streaming a file. Default 64 KiB. */
  highWaterMark?: number;
  /** Most ranges honoured in one Range header; more → the whole file (200). Default 16. */
  maxRanges?: number;
  /** Where file-system failures (not "not found": EMFILE, EIO…) are reported. Default console.error. */
  logError?: (line: string) => void;
}

export const DEFAULT_CACHE_CONTROL = 'public, max-age=0, must-revalidate';

export interface StaticConfig {
  readonly indexNames: readonly string[];
  readonly cacheControl: string;
  readonly compress: boolean;
  readonly single: boolean;
  readonly list: boolean;
  readonly dotfiles: boolean;
  readonly cleanUrls: boolean;
  readonly trailingSlash: boolean | undefined;
  readonly prefix: string;
  readonly hide: ReadonlySet<string>;
  readonly memoryCacheBytes: number;
  readonly maxCachedFileBytes: number;
  readonly precompressed: boolean;
  readonly compressMin: number;
  readonly compressMax: number;
  readonly racyWindowMs: number;
  readonly highWaterMark: number;
  readonly maxRanges: number;
  /** Compressed representations are possible, so compressible types carry Vary: Accept-Encoding. */
  readonly varies: boolean;
  readonly logError: (line: string) => void;
}

export function resolveOptions(options: StaticOptions): StaticConfig {
  const memoryCacheBytes = Math.max(0, options.memoryCacheBytes ?? 64 * 1024 * 1024);
  const compress = options.compress ?? false;
  const precompressed = options.precompressed ?? true;
  let prefix = options.prefix ?? '';
  if (prefix !== '') {
    if (!prefix.startsWith('/')) throw new Error(`serveStatic: prefix must start with "/": ${prefix}`);
    while (prefix.endsWith('/')) prefix = prefix.slice(0, -1);
  }
  return Object.freeze({
    indexNames: options.index ?? ['index.html'],
    cacheControl: options.cacheControl ?? DEFAULT_CACHE_CONTROL,
    compress,
    single: options.single ?? false,
    list: options.list ?? false,
    dotfiles: options.dotfiles ?? false,
    cleanUrls: options.cleanUrls ?? false,
    trailingSlash: options.trailingSlash,
    prefix,
    hide: new Set((options.hide ?? []).map((n) => n.toLowerCase())),
    memoryCacheBytes,
    maxCachedFileBytes: Math.min(Math.max(0, options.maxCachedFileBytes ?? 1024 * 1024), memoryCacheBytes),
    precompressed,
    compressMin: options.compressMinBytes ?? 1024,
    compressMax: Math.min(options.compressMaxBytes ?? 8 * 1024 * 1024, 2 ** 31 - 1),
    racyWindowMs: options.racyWindowMs ?? 2000,
    highWaterMark: options.highWaterMark ?? 64 * 1024,
    maxRanges: Math.max(1, options.maxRanges ?? 16),
    varies: compress || precompressed,
    logError: options.logError ?? ((line: string) => console.error(line)),
  });
}
