// The server: the accept stream (Listener.incoming) driven by forEachConcurrent, each connection
// handed to handleConnection. Shutdown lives here too: stop accepting, drain, force after a deadline.
import type { Handler } from '../http/types.js';
import { Connection, type ConnectionOptions } from '../http/connection.js';
import { Listener } from './listener.js';
import { forEachConcurrent } from './concurrent.js';
import { fromFetch, isFetchApp, type FetchApp } from '../fetch/adapter.js';

export interface ServeOptions extends ConnectionOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 7878; 0 picks a free port. */
  port?: number;
  /** Connections served at once (in this process). Default 10000. */
  concurrency?: number;
  /** Connections accepted and waiting for a slot; beyond this they get 503. Default 1024. */
  queue?: number;
  /** How long close() waits for in-flight requests before cutting connections. Default 10000 ms. */
  shutdownTimeoutMs?: number;
}

export interface Server {
  readonly host: string;
  readonly port: number;
  /** http://host:port/ */
  readonly url: string;
  /** Connections being served now (not counting those waiting in the queue). */
  readonly connections: number;
  /** Connections accepted and waiting for a concurrency slot. */
  readonly waiting: number;
  /**
   * Graceful shutdown: stop accepting, let in-flight requests finish (their responses say
   * `Connection: close`), close idle connections. Connections still open after `deadlineMs`
   * (default: shutdownTimeoutMs) are destroyed. Resolves when every connection is gone.
   */
  close(deadlineMs?: number): Promise<void>;
}

export const DEFAULT_PORT = 7878;

function badApp(app: unknown): never {
  throw new TypeError(`serve: expected a handler function or an object with a fetch method, got ${app === null ? 'null' : typeof app}`);
}

/**
 * Serves `app`: a sluice Handler (a function), or a fetch app, an object with a `fetch` method
 * (a Hono app, `{ fetch }`), run through fromFetch(). A bare fetch handler function must be
 * wrapped: `serve(fromFetch(fn))` (a function is always taken for a sluice handler).
 */
export async function serve(app: Handler | FetchApp, options: ServeOptions = {}): Promise<Server> {
  const handler: Handler = typeof app === 'function' ? app : isFetchApp(app) ? fromFetch(app) : badApp(app);
  const host = options.host ?? '127.0.0.1';
  const listener = await Listener.listen({
    host,
    port: options.port ?? DEFAULT_PORT,
    queue: options.queue ?? 1024,
  });
  const live = new Set<Connection>();
  let draining = false;

  // The accept loop: the async book's `incoming().for_each_concurrent(limit, handle_connection)`.
  const acceptLoop = forEachConcurrent(listener.incoming(), options.concurrency ?? 10_000, (socket) => {
    const conn = new Connection(socket, handler, options);
    live.add(conn);
    if (draining) conn.drain(); // a queued connection taken after close(): serve what it sent, then close
    return conn.done.finally(() => live.delete(conn));
  });

  const port = listener.address.port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | null = null;

  return {
    host,
    port,
    url: `http://${urlHost}:${port}/`,
    get connections() { return live.size; },
    get waiting() { return listener.waiting; },
    close(deadlineMs = options.shutdownTimeoutMs ?? 10_000) {
      if (closing) return closing;
      draining = true;
      listener.close();
      for (const conn of live) conn.drain();
      const forced = setTimeout(() => { for (const conn of live) conn.destroy(); }, deadlineMs);
      forced.unref();
      closing = acceptLoop.finally(() => clearTimeout(forced));
      return closing;
    },
  };
}
