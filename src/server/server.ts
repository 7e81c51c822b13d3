// The server: the accept stream (Listener.incoming) driven by forEachConcurrent, each connection
// handed to handleConnection. Shutdown lives here too: stop accepting, drain, force after a deadline.
import type { Handler } from '../http/types.js';
import { Connection, type ConnectionOptions } from '../http/connection.js';
import { Listener } from './listener.js';
import { forEachConcurrent } from './concurrent.js';
import type { TLSSocket } from 'node:tls';
import { TlsFront } from '../tls/front.js';
import type { TlsOption } from '../tls/options.js';
import { H2Front, type Http2Options } from '../h2/session.js';

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
  /** Serve HTTPS: a certificate/key pair, several (SNI), or TlsSettings. Throws TlsConfigError on a bad one. */
  tls?: TlsOption;
  /** With tls: HTTP/2 for clients that offer it by ALPN (`h2`), with these limits. Default true; false: HTTP/1.1 only. */
  http2?: boolean | Http2Options;
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
  /** With tls: the TLS front (certificates served, failed-handshake counts, reload()). Null otherwise. */
  readonly tls: TlsFront | null;
}

export const DEFAULT_PORT = 7878;

export async function serve(handler: Handler, options: ServeOptions = {}): Promise<Server> {
  const host = options.host ?? '127.0.0.1';
  const h2 = options.tls !== undefined && options.http2 !== false ? new H2Front(handler, options, options.http2 === true ? {} : options.http2) : null;
  const tls = options.tls === undefined ? null : new TlsFront(options.tls, h2 ? ['h2', 'http/1.1'] : ['http/1.1']);
  const listener = await Listener.listen({
    host,
    port: options.port ?? DEFAULT_PORT,
    queue: options.queue ?? 1024,
    accept: tls ? { server: tls.server, event: 'secureConnection' } : undefined,
  });
  const live = new Set<{ drain(): void; destroy(): void }>();
  let draining = false;

  // The accept loop: the async book's `incoming().for_each_concurrent(limit, handle_connection)`.
  const acceptLoop = forEachConcurrent(listener.incoming(), options.concurrency ?? 10_000, (socket) => {
    const conn = h2 !== null && (socket as TLSSocket).alpnProtocol === 'h2' ? h2.serve(socket as TLSSocket) : new Connection(socket, handler, options);
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
    url: `${tls ? 'https' : 'http'}://${urlHost}:${port}/`,
    tls,
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
