// The server: the accept stream (Listener.incoming) driven by forEachConcurrent, each connection
// handed to handleConnection. Shutdown lives here too: stop accepting, drain, force after a deadline.
import type net from 'node:net';
import type { Socket } from 'node:net';
import type { Handler } from '../http/types.js';
import { Connection, type ConnectionOptions } from '../http/connection.js';
import type { ConnectionInfo } from '../http/request.js';
import { Listener, type CloseOptions } from './listener.js';
import { forEachConcurrent } from './concurrent.js';
import { proxySetup, type ProxyOptions } from '../proxy/accept.js';
import { observe, type ObserveOptions, type Observers } from '../ops/hooks.js';
import { fromFetch, isFetchApp, type FetchApp } from '../fetch/adapter.js';
import type { TLSSocket } from 'node:tls';
import { TlsFront } from '../tls/front.js';
import type { TlsOption } from '../tls/options.js';
import { H2Front, type Http2Options } from '../h2/session.js';

export interface ServeOptions extends ConnectionOptions, ProxyOptions, ObserveOptions {
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
  /** Listen backlog (the kernel's accept queue). Default: the kernel's limit, net.core.somaxconn (511 if unknown). */
  backlog?: number;
  /** SO_REUSEPORT: this process gets its own socket on a port other processes share (Node >= 22.12 / 23.1). */
  reusePort?: boolean;
  /** Listen on this already-bound socket handle (received over IPC) instead of host/port. */
  listenHandle?: object;
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
  /** The listening net.Server (its address, its handle for passing it to another process). */
  readonly netServer: net.Server;
  /** Connections accepted since start (served or queued). */
  readonly accepted: number;
  /** Connections answered 503 because the queue was full. */
  readonly rejected: number;
  /** The access/error logs this server writes (options.accessLog/errorLog); reopen() after a rotation. */
  readonly logs: Observers;
  /**
   * Graceful shutdown: stop accepting, let in-flight requests finish (their responses say
   * `Connection: close`), close idle connections. Connections still open after `deadlineMs`
   * (default: shutdownTimeoutMs) are destroyed. Resolves when every connection is gone.
   * `how`: how the listening socket stops accepting (Listener.close()).
   */
  close(deadlineMs?: number, how?: CloseOptions): Promise<void>;
  /** With tls: the TLS front (certificates served, failed-handshake counts, reload()). Null otherwise. */
  readonly tls: TlsFront | null;
}

export const DEFAULT_PORT = 7878;

interface LiveConnection { drain(): void; destroy(): void }

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
  // With the PROXY protocol or trusted proxies, the socket goes through the proxy step first
  // (preamble, client address); without them a connection is built straight away. Set up before
  // listening: a bad trust list throws here.
  const proxy = proxySetup(options);
  const obs = observe(options);
  // Open connections, for close(). An HTTP/1.1 connection leaves the set through the shared
  // onClose hook: a closure or a promise per connection would cost more than the entry itself.
  const live = new Set<LiveConnection>();
  const connOptions: ConnectionOptions = { ...obs.connection, onClose: (conn) => { live.delete(conn as Connection); } };
  const h2 = options.tls !== undefined && options.http2 !== false ? new H2Front(handler, connOptions, options.http2 === true ? {} : options.http2) : null;
  const tls = options.tls === undefined ? null : new TlsFront(options.tls, h2 ? ['h2', 'http/1.1'] : ['http/1.1']);
  const listener = await Listener.listen({
    host,
    port: options.port ?? DEFAULT_PORT,
    queue: options.queue ?? 1024,
    backlog: options.backlog,
    reusePort: options.reusePort,
    handle: options.listenHandle,
    // With the PROXY protocol the preamble comes before the TLS handshake: the Listener accepts raw
    // sockets and each goes to the TLS front once its preamble is read (see below).
    accept: tls && !options.proxyProtocol ? { server: tls.server, event: 'secureConnection' } : undefined,
    // Over a raw socket a client expects TLS: a plain-text 503 would only read as a bad record.
    busy: tls && options.proxyProtocol ? 'close' : 'answer',
  });
  let draining = false;

  // The accept loop: the async book's `incoming().for_each_concurrent(limit, handle_connection)`.
  // A TLS socket whose client chose h2 by ALPN goes to node:http2; everything else to sluice's
  // HTTP/1.1 engine, whose Connection is itself the Completion the loop waits on.
  const open = (socket: Socket, info?: ConnectionInfo): Promise<void> | Connection => {
    if (h2 !== null && (socket as TLSSocket).alpnProtocol === 'h2') {
      const session = h2.serve(socket as TLSSocket, info);
      live.add(session);
      if (draining) session.drain();
      return session.done.then(() => { live.delete(session); });
    }
    const conn = new Connection(socket, handler, connOptions, info);
    if (conn.closed) return conn; // (closed at once: onClose has run)
    live.add(conn);
    if (draining) conn.drain(); // a queued connection taken after close(): serve what it sent, then close
    return conn;
  };
  /** For the paths that reach `open` through a promise (PROXY preamble, TLS after it). */
  const untilDone = (task: Promise<void> | Connection): Promise<void> =>
    task instanceof Connection ? task.done : task;
  // Preamble, then handshake: the handshake timeout starts once the preamble is in.
  const secured = (raw: Socket, info: ConnectionInfo) => tls!.handshake(raw).then((socket) => {
    if (socket === null) return;
    info.scheme = 'https';
    return untilDone(open(socket, info));
  });
  const acceptLoop = forEachConcurrent(listener.incoming(), options.concurrency ?? 10_000, proxy === null
    ? (socket) => open(socket)
    : tls !== null && options.proxyProtocol
      ? (socket) => proxy.prepare(socket).then((info) => (info === null ? undefined : secured(socket, info)))
      : (socket) => proxy.prepare(socket).then((info) => (info === null ? undefined : untilDone(open(socket, info)))));

  const port = listener.address.port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | null = null;

  const server: Server = {
    host,
    port,
    url: `${tls ? 'https' : 'http'}://${urlHost}:${port}/`,
    tls,
    get connections() { return live.size; },
    get waiting() { return listener.waiting; },
    netServer: listener.server,
    get accepted() { return listener.accepted; },
    get rejected() { return listener.rejected; },
    logs: obs,
    close(deadlineMs = options.shutdownTimeoutMs ?? 10_000, how?: CloseOptions) {
      if (closing) return closing;
      draining = true;
      listener.close(how);
      for (const conn of live) conn.drain();
      const forced = setTimeout(() => { proxy?.destroyWaiting(); tls?.destroyPending(); for (const conn of live) conn.destroy(); }, deadlineMs);
      forced.unref();
      closing = acceptLoop.finally(() => clearTimeout(forced)).then(() => obs.close());
      return closing;
    },
  };
  options.metrics?.attach(server);
  return server;
}
