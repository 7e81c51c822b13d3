// The command line: flags in, a checked configuration out. Pure (no server is started here), so
// tests import it; src/cli.ts is the program that acts on the result.
import { existsSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { StaticOptions } from '../app/static/index.js';
import { SITE_CONFIG_NAME, SiteConfigError, siteRulesFor, type SiteRules } from '../app/config/index.js';
import type { TlsSettings } from '../tls/options.js';
import { DEFAULT_LIMITS } from '../http/parser.js';
import { isToken } from '../http/grammar.js';
import { DEFAULT_PORT, type ServeOptions } from '../server/server.js';
import { compileTrust, TrustListError } from '../proxy/trust.js';

export const HELP = `Usage: sluice [DIR | APP] [options]

Serves DIR as a static site, or the demo site (/, /sleep, /work) when DIR is omitted.
APP, a JavaScript module (.js, .mjs, .cjs), is imported and its default export served: a fetch
handler (request => Response), or an object with a fetch method such as a Hono app.

Options:
  --host HOST               address to listen on (env HOST; default 127.0.0.1)
  --port PORT               port, 0 for any free one (env PORT; default ${DEFAULT_PORT})
  --workers N               worker processes (default: number of cores; 1 = no supervisor)
  --threads N               threads for spawn() CPU work, per worker (default: cores / workers)
  --concurrency N           connections served at once, per worker (default 10000)
  --queue N                 connections waiting for a slot, per worker; beyond it 503 (default 1024)
  --backlog N               the kernel's accept queue per listening socket (default: net.core.somaxconn, which caps it)
  --sleep-ms MS             how long the demo site's /sleep waits (default 5000)
  --max-header-size BYTES   request line + headers limit, 431 beyond (default ${DEFAULT_LIMITS.maxHeaderSize})
  --max-target-length BYTES request-target limit, 414 beyond (default ${DEFAULT_LIMITS.maxTargetLength})
  --max-body-size BYTES     request body limit, 413 beyond (default ${DEFAULT_LIMITS.maxBodySize})
  --methods LIST            request methods to accept beyond RFC 9110's, PATCH and WebDAV's
                            (comma-separated, case-sensitive, e.g. PURGE,BREW); others get 501
  --headers-timeout MS      time to receive a request's head, 408 after (default 10000)
  --request-timeout MS      time to receive a whole request, 408 after (default 30000)
  --keep-alive-timeout MS   idle keep-alive connections close after (default 5000)
  --send-timeout MS         longest a response write may wait for the client to read (default 60000)
  --shutdown-timeout MS     on SIGTERM/SIGINT, in-flight requests get this long (default 10000)
  --cache-control VALUE     Cache-Control for static files (default "public, max-age=0, must-revalidate")
  --compress                gzip/brotli compressible static files on the fly (cached)
  --single                  single-page app: unknown paths without an extension get /index.html
  --list                    HTML listing for folders without an index file
  --dotfiles                serve dotfiles (hidden by default)
  --cache-size BYTES        memory for small static files (default 67108864)
  --admin [HOST:]PORT       admin listener for probes and operators: /healthz, /readyz,
                            /metrics (Prometheus), /status (live page)
                            (off by default; HOST defaults to 127.0.0.1)
  --drain-delay MS          on SIGTERM, report not-ready (/readyz 503) and keep serving this long
                            before draining, so a load balancer stops sending first (default 0)
  --proxy-protocol          every connection starts with a PROXY protocol v1/v2 preamble (from
                            a load balancer); its client address becomes the request's
  --trust-proxy LIST        believe X-Forwarded-For/-Proto/-Host only from these peers: addresses,
                            CIDRs, loopback, linklocal, private (e.g. 127.0.0.1,10.0.0.0/8,::1)
  --forwarded-header NAME   x-forwarded (default) or forwarded (RFC 7239): which fields the
                            trusted proxies write
  --clean-urls              /about serves about.html; /about.html redirects to /about
  --config FILE             site config (headers, redirects, rewrites...; default DIR/sluice.json)
  --cors                    CORS headers on every response, preflight OPTIONS answered
  --header 'NAME: VALUE'    add a response header (repeatable)
  --access-log PATH         access log file (appended to; - for stdout). Without it, a short
                            line per request goes to stdout when stdout is a terminal
  --log-format FORMAT       combined (nginx's default line, the default) or json
  --error-log PATH          handler errors with request line and stack (default: stderr)
  -q, --quiet               no per-request lines on the terminal (an --access-log still writes)
  --static DIR              with APP: serve DIR's files first, the app gets what is not a file
  --tls-cert FILE           serve HTTPS with this certificate (PEM, full chain); repeat with
                            --tls-key for more names (SNI): the Nth --tls-cert goes with the Nth --tls-key
  --tls-key FILE            the private key (PEM) of the --tls-cert in the same position
  --tls-self-signed         HTTPS with a certificate made at start-up for localhost/127.0.0.1/::1
  --tls-min-version V       TLSv1.2 (default) or TLSv1.3
  --tls-ciphers LIST        OpenSSL cipher list (default: Mozilla "intermediate")
  --tls-handshake-timeout MS  unfinished TLS handshakes are dropped after (default 10000)
  --redirect-http PORT      also listen on PORT for plain HTTP, answering 308 to the https:// URL
  --no-http2                HTTP/1.1 only over TLS (default: HTTP/2 when the client offers h2)
  --h2-max-streams N        concurrent HTTP/2 streams per connection (default 100)
  --h2-max-resets N         HTTP/2 stream resets per second per connection before GOAWAY (default 100)
  -h, --help                show this help
  -v, --version             show the version
`;

export class UsageError extends Error {}

const intFlag = (name: string, value: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${value}`);
  return n;
};

/** What the positional may name instead of a folder: a module the CLI imports (see src/fetch/app-file.ts). */
const APP_FILE = /\.(?:m?js|cjs)$/;

export interface CliConfig {
  dir: string | undefined;
  /** A fetch app module to import and serve (instead of dir). */
  app: string | undefined;
  /** With app: a folder served before it (--static). */
  staticDir: string | undefined;
  workers: number;
  threads: number | undefined;
  sleepMs: number;
  serve: ServeOptions;
  static: StaticOptions;
  /** On SIGTERM/SIGINT: how long to report not-ready while still serving, before draining. */
  drainDelayMs: number;
  /** The admin listener's address, when --admin is given. */
  admin: { host: string; port: number } | undefined;
  /** Whether the port came from --port or PORT (a busy default port is replaced by a free one). */
  portExplicit: boolean;
  /** Site config rules (file + --cors/--header/--clean-urls). */
  site: SiteRules;
  logs: LogConfig;
  /** HTTPS (null: plain HTTP). The certificates are read by the program, not here. */
  tls: CliTls | null;
}

export interface CliTls {
  /** --tls-cert/--tls-key pairs, in order (empty with --tls-self-signed). */
  files: { certFile: string; keyFile: string }[];
  selfSigned: boolean;
  settings: Omit<TlsSettings, 'pairs'>;
  /** --redirect-http PORT. */
  redirectHttpPort: number | undefined;
}

export interface LogConfig {
  /** --access-log: a path, or '-' for stdout. */
  accessLog: string | undefined;
  /** --log-format, when given. */
  format: 'combined' | 'json' | undefined;
  /** --error-log: a path, '-' for stdout; 'stderr' by default. */
  errorLog: string;
  quiet: boolean;
}

/** Flags that only mean something when a folder is served. */
const FOLDER_FLAGS = ['compress', 'single', 'list', 'dotfiles', 'cache-control', 'cache-size', 'clean-urls', 'config'] as const;

export function parseCli(argv: string[], env: NodeJS.ProcessEnv = process.env): CliConfig | 'help' | 'version' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        workers: { type: 'string' },
        threads: { type: 'string' },
        concurrency: { type: 'string' },
        queue: { type: 'string' },
        backlog: { type: 'string' },
        'sleep-ms': { type: 'string' },
        'max-header-size': { type: 'string' },
        'max-target-length': { type: 'string' },
        'max-body-size': { type: 'string' },
        methods: { type: 'string' },
        'headers-timeout': { type: 'string' },
        'request-timeout': { type: 'string' },
        'keep-alive-timeout': { type: 'string' },
        'send-timeout': { type: 'string' },
        'shutdown-timeout': { type: 'string' },
        'cache-control': { type: 'string' },
        compress: { type: 'boolean' },
        single: { type: 'boolean' },
        list: { type: 'boolean' },
        dotfiles: { type: 'boolean' },
        'cache-size': { type: 'string' },
        admin: { type: 'string' },
        'drain-delay': { type: 'string' },
        'proxy-protocol': { type: 'boolean' },
        'trust-proxy': { type: 'string' },
        'forwarded-header': { type: 'string' },
        'clean-urls': { type: 'boolean' },
        config: { type: 'string' },
        cors: { type: 'boolean' },
        header: { type: 'string', multiple: true },
        'access-log': { type: 'string' },
        'log-format': { type: 'string' },
        'error-log': { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        static: { type: 'string' },
        'tls-cert': { type: 'string', multiple: true },
        'tls-key': { type: 'string', multiple: true },
        'tls-self-signed': { type: 'boolean' },
        'tls-min-version': { type: 'string' },
        'tls-ciphers': { type: 'string' },
        'tls-handshake-timeout': { type: 'string' },
        'redirect-http': { type: 'string' },
        'no-http2': { type: 'boolean' },
        'h2-max-streams': { type: 'string' },
        'h2-max-resets': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (err) {
    throw new UsageError(parseArgsMessage(err as Error & { code?: string }));
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (v.version) return 'version';
  if (parsed.positionals.length > 1) throw new UsageError(`expected at most one folder, got ${parsed.positionals.length}`);
  let dir: string | undefined = parsed.positionals[0];
  let app: string | undefined;
  if (dir !== undefined) {
    const isApp = APP_FILE.test(dir);
    if (!existsSync(dir)) throw new UsageError(`${isApp ? 'app file' : 'folder'} not found: ${dir}`);
    if (isApp && statSync(dir).isFile()) { app = dir; dir = undefined; }
    else if (!statSync(dir).isDirectory()) throw new UsageError(`neither a folder nor a JavaScript module (.js, .mjs, .cjs): ${dir}`);
  }
  const staticDir = v.static;
  if (staticDir !== undefined) {
    if (app === undefined) throw new UsageError('--static goes with an app file (sluice app.mjs --static DIR); to serve only files: sluice DIR');
    if (!existsSync(staticDir) || !statSync(staticDir).isDirectory()) throw new UsageError(`--static: not a folder: ${staticDir}`);
  }
  // The folder whose files are served: DIR, or an app's --static DIR.
  const filesDir = dir ?? staticDir;
  if (filesDir === undefined) {
    const given = FOLDER_FLAGS.find((f) => v[f] !== undefined);
    if (given !== undefined) {
      throw new UsageError(`--${given} only applies to a folder: sluice DIR --${given} (` +
        (app === undefined ? 'without DIR the demo site is served' : 'or, with an app, --static DIR') + ')');
    }
  }
  let site;
  try {
    site = siteRulesFor({ dir: filesDir, configFile: v.config, cors: v.cors, headers: v.header, cleanUrls: v['clean-urls'] });
  } catch (err) {
    if (err instanceof SiteConfigError) throw new UsageError(err.message);
    throw err;
  }
  const host = v.host ?? env.HOST ?? '127.0.0.1';
  if (host === '' || /[\s/]/.test(host)) throw new UsageError(`--host is not a valid address: "${host}"`);
  const port = intFlag('port', v.port ?? env.PORT, 0, 65535) ?? DEFAULT_PORT;
  const portExplicit = (v.port ?? env.PORT) !== undefined;
  const ms = (name: string, value: string | undefined) => intFlag(name, value, 1, 24 * 3600 * 1000);
  const tls = tlsFlags(v, port, ms);
  return {
    dir,
    app,
    staticDir,
    workers: intFlag('workers', v.workers, 1, 1024) ?? os.availableParallelism(),
    threads: intFlag('threads', v.threads, 1, 1024),
    sleepMs: intFlag('sleep-ms', v['sleep-ms'], 0, 24 * 3600 * 1000) ?? 5000,
    serve: {
      host,
      port,
      concurrency: intFlag('concurrency', v.concurrency, 1),
      queue: intFlag('queue', v.queue, 0),
      backlog: intFlag('backlog', v.backlog, 1, 65535),
      maxHeaderSize: intFlag('max-header-size', v['max-header-size'], 256, 1024 * 1024),
      maxTargetLength: intFlag('max-target-length', v['max-target-length'], 16, 1024 * 1024),
      maxBodySize: intFlag('max-body-size', v['max-body-size'], 0),
      extraMethods: methodList(v.methods),
      headersTimeoutMs: ms('headers-timeout', v['headers-timeout']),
      requestTimeoutMs: ms('request-timeout', v['request-timeout']),
      keepAliveTimeoutMs: ms('keep-alive-timeout', v['keep-alive-timeout']),
      sendTimeoutMs: ms('send-timeout', v['send-timeout']),
      shutdownTimeoutMs: ms('shutdown-timeout', v['shutdown-timeout']),
      proxyProtocol: v['proxy-protocol'],
      trustProxy: trustList(v['trust-proxy']),
      forwardedHeader: forwardedHeader(v['forwarded-header'], v['trust-proxy'] !== undefined),
      http2: tls === null || v['no-http2'] ? false : {
        maxConcurrentStreams: intFlag('h2-max-streams', v['h2-max-streams'], 1, 2 ** 31 - 1),
        maxResetsPerSecond: intFlag('h2-max-resets', v['h2-max-resets'], 1),
      },
    },
    static: {
      cacheControl: v['cache-control'],
      compress: v.compress,
      single: v.single,
      list: v.list,
      dotfiles: v.dotfiles,
      memoryCacheBytes: intFlag('cache-size', v['cache-size'], 0),
      cleanUrls: site.rules.cleanUrls,
      trailingSlash: site.rules.trailingSlash,
      // The folder's own config file is not part of the site.
      hide: site.configFile !== undefined && filesDir !== undefined && path.resolve(site.configFile) === path.resolve(filesDir, SITE_CONFIG_NAME) ? [SITE_CONFIG_NAME] : [],
    },
    admin: v.admin === undefined ? undefined : parseHostPort('admin', v.admin),
    drainDelayMs: intFlag('drain-delay', v['drain-delay'], 0, 3600 * 1000) ?? 0,
    portExplicit,
    site: site.rules,
    logs: {
      accessLog: pathFlag('access-log', v['access-log']),
      format: logFormat(v['log-format']),
      errorLog: pathFlag('error-log', v['error-log']) ?? 'stderr',
      quiet: v.quiet ?? false,
    },
    tls,
  };
}

/** --methods: comma-separated method tokens (RFC 9110 §9.1: a method is a token, case-sensitive). */
function methodList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const methods = value.split(',').map((m) => m.replace(/^[ \t]+|[ \t]+$/g, ''));
  for (const m of methods) {
    if (!isToken(m)) throw new UsageError(`--methods: not a method name: ${JSON.stringify(m)} (a token: letters, digits and symbols such as - _ . ~; comma-separated)`);
  }
  return methods;
}

function tlsFlags(
  v: { [k: string]: string | boolean | string[] | undefined },
  port: number,
  ms: (name: string, value: string | undefined) => number | undefined,
): CliTls | null {
  const certs = (v['tls-cert'] as string[] | undefined) ?? [];
  const keys = (v['tls-key'] as string[] | undefined) ?? [];
  const selfSigned = v['tls-self-signed'] === true;
  const redirect = intFlag('redirect-http', v['redirect-http'] as string | undefined, 1, 65535);
  if (certs.length === 0 && keys.length === 0 && !selfSigned) {
    for (const flag of ['tls-min-version', 'tls-ciphers', 'tls-handshake-timeout', 'redirect-http', 'h2-max-streams', 'h2-max-resets', 'no-http2']) {
      if (v[flag] !== undefined) throw new UsageError(`--${flag} needs TLS: give --tls-cert and --tls-key, or --tls-self-signed`);
    }
    return null;
  }
  if (selfSigned && certs.length > 0) throw new UsageError('--tls-self-signed and --tls-cert exclude each other');
  if (certs.length !== keys.length) {
    throw new UsageError(`every --tls-cert needs its --tls-key (got ${certs.length} certificate(s) and ${keys.length} key(s))`);
  }
  if (redirect !== undefined && redirect === port) throw new UsageError(`--redirect-http ${redirect} is the HTTPS port itself`);
  const minVersion = v['tls-min-version'] as string | undefined;
  if (minVersion !== undefined && minVersion !== 'TLSv1.2' && minVersion !== 'TLSv1.3') {
    throw new UsageError(`--tls-min-version must be TLSv1.2 or TLSv1.3, got "${minVersion}"`);
  }
  const ciphers = v['tls-ciphers'] as string | undefined;
  if (ciphers !== undefined && ciphers.trim() === '') throw new UsageError('--tls-ciphers must not be empty');
  return {
    files: certs.map((certFile, i) => ({ certFile, keyFile: keys[i] })),
    selfSigned,
    settings: { minVersion, ciphers, handshakeTimeoutMs: ms('tls-handshake-timeout', v['tls-handshake-timeout'] as string | undefined) },
    redirectHttpPort: redirect,
  };
}

/** Checked here so a typo is a usage error, not a surprise at the first request. */
function trustList(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    compileTrust(value);
  } catch (err) {
    if (err instanceof TrustListError) throw new UsageError(`--trust-proxy: ${err.message}`);
    throw err;
  }
  if (value.split(',').every((e) => e.trim() === '')) throw new UsageError('--trust-proxy needs at least one address or range');
  return value;
}

function forwardedHeader(value: string | undefined, trusting: boolean): 'x-forwarded' | 'forwarded' | undefined {
  if (value === undefined) return undefined;
  if (value !== 'x-forwarded' && value !== 'forwarded') throw new UsageError(`--forwarded-header must be x-forwarded or forwarded, got "${value}"`);
  if (!trusting) throw new UsageError('--forwarded-header needs --trust-proxy');
  return value;
}

function pathFlag(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value === '' || value.includes('\0')) throw new UsageError(`--${name} needs a file path or -, got "${value}"`);
  if (value !== '-' && existsSync(value) && statSync(value).isDirectory()) throw new UsageError(`--${name} is a folder, not a file: ${value}`);
  return value;
}

function logFormat(value: string | undefined): 'combined' | 'json' | undefined {
  if (value === undefined || value === 'combined' || value === 'json') return value;
  throw new UsageError(`--log-format must be combined or json, got "${value}"`);
}


/** "PORT", "HOST:PORT" or "[V6]:PORT"; the host defaults to loopback (an admin port is not for the world). */
export function parseHostPort(name: string, value: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:\s/\[\]]+):)?(\d+)$/.exec(value);
  if (!m) throw new UsageError(`--${name} must be PORT or HOST:PORT, got "${value}"`);
  const host = m[1] === undefined ? '127.0.0.1' : m[1].replace(/^\[(.*)\]$/, '$1');
  const port = intFlag(name, m[2], 0, 65535)!;
  return { host, port };
}

/**
 * node:util's parseArgs messages, kept except for two: the unknown-option hint ends in an
 * unbalanced quote (as in '-- "--x"), which reads badly above "Try 'sluice --help'.", and the
 * missing-value one takes three lines.
 */
function parseArgsMessage(err: Error & { code?: string }): string {
  const unknown = err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /^Unknown option '([^']*)'/.exec(err.message) : null;
  if (unknown) return `Unknown option '${unknown[1]}' (a folder whose name starts with "-" goes after "--")`;
  // "--port -1": parseArgs' three-line explanation, in one line
  const ambiguous = /^Option '([^']*)' argument is ambiguous/.exec(err.message);
  if (ambiguous) return `Option '${ambiguous[1]}' needs a value (one that starts with "-" is written ${ambiguous[1]}=VALUE)`;
  return err.message;
}
