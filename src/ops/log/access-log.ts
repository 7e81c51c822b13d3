// The access log (one line per exchange) and the error log (handler errors with the request line
// and the stack). Both are ConnectionOptions hooks: cheap to call, no I/O on the request path.
import cluster from 'node:cluster';
import type { ResponseRecord } from '../../http/connection.js';
import type { IncomingRequest } from '../../http/request.js';
import { escapeControls, escapeField, MAX_TARGET } from './escape.js';
import { formatter, headless, protocolOf, type Formatter, type LogFormat } from './formats.js';
import { LineSink, PIPE_BUF, type Destination } from './sink.js';

export interface AccessLogOptions {
  /** A file path (appended to, created with its folders), or '-' / 'stdout', or 'stderr'. */
  destination: string;
  /** Default 'combined' (nginx's default line). 'dev' is a short line for a terminal. */
  format?: LogFormat;
}

export function destinationOf(d: string): Destination {
  return d === '-' ? 'stdout' : d;
}

const workerId = (): number => (cluster.isWorker && cluster.worker ? cluster.worker.id : 0);

export class AccessLog {
  private readonly sink: LineSink;
  private readonly format: Formatter;
  private readonly worker = workerId();

  constructor(options: AccessLogOptions) {
    this.sink = new LineSink(destinationOf(options.destination));
    this.format = formatter(options.format ?? 'combined');
  }

  /** The onResponse hook. */
  readonly onResponse = (req: IncomingRequest, record: ResponseRecord): void => {
    const now = performance.now();
    this.sink.write(this.format({ req, record, durationMs: now - req._startedAt, now: performance.timeOrigin + now, worker: this.worker }));
  };

  reopen(): void { this.sink.reopen(); }
  flushSync(): void { this.sink.flushSync(); }
  close(): Promise<void> { return this.sink.close(); }
}

export interface ErrorLogOptions {
  /** A file path, '-' / 'stdout', or 'stderr' (the default). */
  destination?: string;
}

/** Handler errors, one entry each: time, worker, request line, client, then the stack (indented). */
export class ErrorLog {
  private readonly sink: LineSink;
  private readonly worker = workerId();

  constructor(options: ErrorLogOptions = {}) {
    this.sink = new LineSink(destinationOf(options.destination ?? 'stderr'));
  }

  /** The onError hook. */
  readonly onError = (err: unknown, req: IncomingRequest | null): void => {
    const what = req === null || headless(req)
      ? '(no request)'
      : `"${escapeField(req.method, 32)} ${escapeField(req.target, MAX_TARGET)} ${protocolOf(req)}" from ${req.remoteAddress ?? '-'}`;
    const stack = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
    // Control characters in a message could forge entries: escape them, and indent every
    // continuation line so an entry's first line is the only one starting in column 0.
    const body = stack.split('\n').map((l, i) => (i > 0 && !/^\s/.test(l) ? '    ' : '') + escapeControls(l, 1024)).join('\n');
    let entry = `${new Date().toISOString()} [error] worker ${this.worker} pid ${process.pid}: handler error on ${what}: ${body}\n`;
    if (entry.length > PIPE_BUF) entry = `${entry.slice(0, PIPE_BUF - 16)} (truncated)\n`;
    this.sink.write(entry);
  };

  reopen(): void { this.sink.reopen(); }
  flushSync(): void { this.sink.flushSync(); }
  close(): Promise<void> { return this.sink.close(); }
}
