// What serve() does with its observability options: build the access log, error log and request
// counters they ask for, and fold them into the connection's onResponse/onError hooks (one call
// per exchange each; nothing at all when none is asked for).
import type { ConnectionOptions } from '../http/connection.js';
import { AccessLog, ErrorLog, type AccessLogOptions, type ErrorLogOptions } from './log/access-log.js';
import type { RequestMetrics } from './metrics/counters.js';

export interface ObserveOptions {
  /** Off by default. Options (a file, '-' for stdout; a format), or an AccessLog you made. */
  accessLog?: AccessLogOptions | AccessLog;
  /** Handler errors with the request line and stack. Default: the engine's console.error. */
  errorLog?: ErrorLogOptions | ErrorLog;
  /** Counters for /metrics and /status (see startAdmin). */
  metrics?: RequestMetrics;
}

type OnResponse = NonNullable<ConnectionOptions['onResponse']>;

export interface Observers {
  readonly connection: ConnectionOptions;
  readonly accessLog: AccessLog | null;
  readonly errorLog: ErrorLog | null;
  /** logrotate: open the log files again by name. */
  reopen(): void;
  close(): Promise<void>;
}

export function observe(options: ConnectionOptions & ObserveOptions): Observers {
  const accessLog = options.accessLog === undefined ? null : options.accessLog instanceof AccessLog ? options.accessLog : new AccessLog(options.accessLog);
  const errorLog = options.errorLog === undefined ? null : options.errorLog instanceof ErrorLog ? options.errorLog : new ErrorLog(options.errorLog);
  const hooks = [options.onResponse, options.metrics?.onResponse, accessLog?.onResponse].filter((h): h is OnResponse => h !== undefined);
  const onResponse: OnResponse | undefined = hooks.length <= 1 ? hooks[0] : (req, rec) => { for (const h of hooks) h(req, rec); };
  const connection: ConnectionOptions = { ...options, onResponse, onError: options.onError ?? errorLog?.onError };
  return {
    connection,
    accessLog,
    errorLog,
    reopen() { accessLog?.reopen(); errorLog?.reopen(); },
    async close() { await Promise.all([accessLog?.close(), errorLog?.close()]); },
  };
}
