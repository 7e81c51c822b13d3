// The command line: flags in, a checked configuration out. Pure (no server is started here), so
// tests import it; src/cli.ts is the program that acts on the result.
import { existsSync, statSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { StaticOptions } from '../app/static/index.js';
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
  const dir = parsed.positionals[0];
  if (dir !== undefined) {
    if (!existsSync(dir)) throw new UsageError(`folder not found: ${dir}`);
    if (!statSync(dir).isDirectory()) throw new UsageError(`not a folder: ${dir}`);
  }
  const host = v.host ?? env.HOST ?? '127.0.0.1';
  if (host === '' || /[\s/]/.test(host)) throw new UsageError(`--host is not a valid address: "${host}"`);
  const port = intFlag('port', v.port ?? env.PORT, 0, 65535) ?? DEFAULT_PORT;
  const ms = (name: string, value: string | undefined) => intFlag(name, value, 1, 24 * 3600 * 1000);
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
    },
    static: {
      cacheControl: v['cache-control'],
      compress: v.compress,
      single: v.single,
      list: v.list,
      dotfiles: v.dotfiles,
      memoryCacheBytes: intFlag('cache-size', v['cache-size'], 0),
    },
  };
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
