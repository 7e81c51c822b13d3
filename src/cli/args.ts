// The command line: flags in, a checked configuration out. Pure (no server is started here), so
// tests import it; src/cli.ts is the program that acts on the result.
import { existsSync, statSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { StaticOptions } from '../app/static/index.js';
import type { TlsSettings } from '../tls/options.js';
import { DEFAULT_LIMITS } from '../http/parser.js';
import { DEFAULT_PORT, type ServeOptions } from '../server/server.js';

export const HELP = `Usage: sluice [DIR] [options]

Serves DIR as a static site, or the demo site (/, /sleep, /work) when DIR is omitted.

Options:
  --host HOST               address to listen on (env HOST; default 127.0.0.1)
  --port PORT               port, 0 for any free one (env PORT; default ${DEFAULT_PORT})
  --workers N               worker processes (default: number of cores; 1 = no supervisor)
  --threads N               threads for spawn() CPU work, per worker (default: cores / workers)
  --concurrency N           connections served at once, per worker (default 10000)
  --queue N                 connections waiting for a slot, per worker; beyond it 503 (default 1024)
  --sleep-ms MS             how long the demo site's /sleep waits (default 5000)
  --max-header-size BYTES   request line + headers limit, 431 beyond (default ${DEFAULT_LIMITS.maxHeaderSize})
  --max-target-length BYTES request-target limit, 414 beyond (default ${DEFAULT_LIMITS.maxTargetLength})
  --max-body-size BYTES     request body limit, 413 beyond (default ${DEFAULT_LIMITS.maxBodySize})
  --headers-timeout MS      time to receive a request's head, 408 after (default 10000)
  --request-timeout MS      time to receive a whole request, 408 after (default 30000)
  --keep-alive-timeout MS   idle keep-alive connections close after (default 5000)
  --shutdown-timeout MS     on SIGTERM/SIGINT, in-flight requests get this long (default 10000)
  --cache-control VALUE     Cache-Control for static files (default "public, max-age=0, must-revalidate")
  --compress                gzip/brotli compressible static files on the fly (cached)
  --single                  single-page app: unknown paths without an extension get /index.html
  --list                    HTML listing for folders without an index file
  --dotfiles                serve dotfiles (hidden by default)
  --cache-size BYTES        memory for small static files (default 67108864)
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

export interface CliConfig {
  dir: string | undefined;
  workers: number;
  threads: number | undefined;
  sleepMs: number;
  serve: ServeOptions;
  static: StaticOptions;
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
        'sleep-ms': { type: 'string' },
        'max-header-size': { type: 'string' },
        'max-target-length': { type: 'string' },
        'max-body-size': { type: 'string' },
        'headers-timeout': { type: 'string' },
        'request-timeout': { type: 'string' },
        'keep-alive-timeout': { type: 'string' },
        'shutdown-timeout': { type: 'string' },
        'cache-control': { type: 'string' },
        compress: { type: 'boolean' },
        single: { type: 'boolean' },
        list: { type: 'boolean' },
        dotfiles: { type: 'boolean' },
        'cache-size': { type: 'string' },
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
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (v.version) return 'version';
  if (parsed.positionals.length > 1) throw new UsageError(`expected at most one folder, got ${parsed.positionals.length}`);
  const dir = parsed.positionals[0];
  if (dir !== undefined) {
    if (!existsSync(dir)) throw new UsageError(`folder not found: ${dir}`);
    if (!statSync(dir).isDirectory()) throw new UsageError(`not a folder: ${dir}`);
  }
  const host = v.host ?? env.HOST ?? '127.0.0.1';
  if (host === '' || /[\s/]/.test(host)) throw new UsageError(`--host is not a valid address: "${host}"`);
  const port = intFlag('port', v.port ?? env.PORT, 0, 65535) ?? DEFAULT_PORT;
  const ms = (name: string, value: string | undefined) => intFlag(name, value, 1, 24 * 3600 * 1000);
  const tls = tlsFlags(v, port, ms);
  return {
    dir,
    workers: intFlag('workers', v.workers, 1, 1024) ?? os.availableParallelism(),
    threads: intFlag('threads', v.threads, 1, 1024),
    sleepMs: intFlag('sleep-ms', v['sleep-ms'], 0, 24 * 3600 * 1000) ?? 5000,
    serve: {
      host,
      port,
      concurrency: intFlag('concurrency', v.concurrency, 1),
      queue: intFlag('queue', v.queue, 0),
      maxHeaderSize: intFlag('max-header-size', v['max-header-size'], 256, 1024 * 1024),
      maxTargetLength: intFlag('max-target-length', v['max-target-length'], 16, 1024 * 1024),
      maxBodySize: intFlag('max-body-size', v['max-body-size'], 0),
      headersTimeoutMs: ms('headers-timeout', v['headers-timeout']),
      requestTimeoutMs: ms('request-timeout', v['request-timeout']),
      keepAliveTimeoutMs: ms('keep-alive-timeout', v['keep-alive-timeout']),
      shutdownTimeoutMs: ms('shutdown-timeout', v['shutdown-timeout']),
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
    },
    tls,
  };
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

