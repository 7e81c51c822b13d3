// How the `sluice` command turns its log and admin flags into observers: which access log a
// serving process writes, and the aggregator behind the admin listener's /metrics and /status.
import cluster from 'node:cluster';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import type { LogConfig } from '../cli/args.js';
import type { Server } from '../server/server.js';
import type { ObserveOptions } from './hooks.js';
import { Aggregator } from './metrics/aggregate.js';
import { RequestMetrics } from './metrics/counters.js';
import { ClusterSource, forwardLogReopen, LocalSource, serveWorkerMetrics } from './cluster-metrics.js';

/**
 * The logs of a serving process. An explicit --access-log always writes; otherwise a person at a
 * terminal gets a short line per request on stdout (json if asked), unless --quiet; a pipe or a
 * file gets nothing.
 */
export function logOptions(logs: LogConfig, stdoutIsTTY = process.stdout.isTTY === true): ObserveOptions {
  const errorLog = { destination: logs.errorLog };
  if (logs.accessLog !== undefined) return { accessLog: { destination: logs.accessLog, format: logs.format ?? 'combined' }, errorLog };
  if (stdoutIsTTY && !logs.quiet) return { accessLog: { destination: '-', format: logs.format ?? 'dev' }, errorLog };
  return { errorLog };
}

/** Opens (creating) the log files once, so a path that cannot be written is a start-up error, not silence. */
export function checkLogFiles(logs: LogConfig): void {
  for (const [flag, file] of [['--access-log', logs.accessLog], ['--error-log', logs.errorLog]] as const) {
    if (file === undefined || file === '-' || file === 'stdout' || file === 'stderr') continue;
    try {
      mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      closeSync(openSync(file, 'a'));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new Error(`cannot open ${file} (${flag}): ${e.code ?? e.message}`);
    }
  }
}

/** Request counters for a serving process, when an admin listener will read them. */
export function servingMetrics(admin: boolean): RequestMetrics | undefined {
  if (!admin) return undefined;
  const m = new RequestMetrics();
  m.watchEventLoop();
  return m;
}

/** In a serving process, once it listens: SIGUSR1 (or the primary) reopens the logs; polls get snapshots. */
export function wireServingProcess(server: Server, metrics: RequestMetrics | undefined): void {
  const reopen = () => server.logs.reopen();
  if (cluster.isWorker) serveWorkerMetrics(metrics ?? null, reopen);
  else process.on('SIGUSR1', reopen);
}

/**
 * The admin side. Under a primary: poll the workers, count restarts, forward SIGUSR1. In a single
 * process: read its own counters.
 */
export function operatorAggregator(opts: { version: string; workers: number; metrics?: RequestMetrics }): Aggregator {
  let source;
  if (cluster.isPrimary && opts.workers > 1) {
    const self = new RequestMetrics();
    self.watchEventLoop();
    source = new ClusterSource(self);
  } else {
    source = new LocalSource(opts.metrics ?? new RequestMetrics());
  }
  return new Aggregator(source, opts.version, opts.workers); // startAdmin starts it
}

export { forwardLogReopen };
