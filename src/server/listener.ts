// The accept stream: `incoming()` yields accepted TCP connections as an AsyncIterable, the way the
// async book's `listener.incoming()` does. Sockets are accepted paused (`pauseOnConnect`), so a
// connection waiting for a concurrency slot is accepted but unread. Waiting connections sit in a
// bounded queue; past it a connection is answered 503 with Retry-After and closed.
import { readFileSync } from 'node:fs';
import net from 'node:net';

export interface ListenOptions {
  host: string;
  port: number;
  /** Connections accepted but not yet taken by the consumer. Beyond this: 503. */
  queue: number;
  /** Listen backlog handed to the kernel. Default: defaultBacklog(). */
  backlog?: number;
  /**
   * SO_REUSEPORT (Node >= 22.12 / 23.1 on Linux): several sockets, one per process, share the port
   * and the kernel spreads new connections among them. Implies binding in this process even in a
   * cluster worker (`exclusive`).
   */
  reusePort?: boolean;
  /** Listen on this already-bound socket instead (a handle received over IPC); host and port are then ignored. */
  handle?: object;
  /**
   * A server of the caller's and the event that yields its connections ready to serve: a
   * tls.Server and 'secureConnection' (sockets arrive after their handshake). Default: a plain
   * net.Server and 'connection'.
   */
  accept?: { server: net.Server; event: 'secureConnection' };
  /** A connection beyond the queue: answered 503 (the default), or closed without a word. */
  busy?: 'answer' | 'close';
}

/** The kernel's cap on a listen backlog (Linux: net.core.somaxconn); a larger request is silently cut to it. */
export function somaxconn(): number | null {
  try {
    const n = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null; // not Linux, or /proc not mounted
  }
}

/**
 * The default backlog: as deep as the kernel allows (somaxconn), so a burst of new connections
 * waits in the accept queue while the event loop is busy instead of being dropped (the client's
 * SYN is then retried a second later). Node's own default, 511, where somaxconn is unknown.
 */
export function defaultBacklog(): number {
  return Math.min(somaxconn() ?? 511, 65535);
}

const BUSY_BODY = 'Service Unavailable: the server is at its connection limit; retry shortly.\n';
const BUSY_RESPONSE =
  'HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: text/plain; charset=utf-8\r\n' +
  `Content-Length: ${Buffer.byteLength(BUSY_BODY)}\r\nConnection: close\r\n\r\n${BUSY_BODY}`;

/**
 * Writes a final response and closes without a reset: unread request bytes left in the kernel's
 * buffer would make close() send RST and the client could lose the response, so the rest is read
 * and discarded for a moment first.
 */
export function answerAndClose(socket: net.Socket, response: string | Buffer, lingerMs = 2000): void {
  socket.on('error', () => {});
  socket.end(response);
  socket.resume();
  const t = setTimeout(() => socket.destroy(), lingerMs);
  t.unref();
  socket.once('close', () => clearTimeout(t));
}

/** Quiescing: the socket closes once no connection came for this long... */
export const QUIET_MS = 50;
/** ...or this long after close() (at most a quarter of the drain deadline), whichever is first. */
export const QUIESCE_MAX_MS = 1_000;

/** Past maxMs, how long the close may wait for a moment with no connection coming in. */
export const CLOSE_GAP_WAIT_MS = 100;

/** The quiesce settings for a drain with this deadline. */
export function quiesceFor(deadlineMs: number): { quietMs: number; maxMs: number } {
  return { quietMs: QUIET_MS, maxMs: Math.min(QUIESCE_MAX_MS, deadlineMs / 4) };
}

/** How Listener.close() stops accepting (see there). */
export interface CloseOptions {
  /** Hold new connections and close the socket only once no connection came for `quietMs` (at most `maxMs` after close()). */
  quiesce?: { quietMs: number; maxMs: number };
  /** Called right after the listening socket is closed. */
  onSocketClosed?: () => void;
  /** Held connections are yielded only once this resolves (or rejects), after the socket is closed. */
  release?: Promise<unknown>;
}

export class Listener implements AsyncIterable<net.Socket> {
  readonly server: net.Server;
  private readonly queued: net.Socket[] = [];
  private readonly maxQueued: number;
  private readonly busy: 'answer' | 'close';
  private waiter: ((s: net.Socket | null) => void) | null = null;
  /** close() was called; the socket closes at the end of this loop turn. */
  private closed = false;
  /** The listening socket is closed: nothing more can be accepted. */
  private socketClosed = false;
  /** close({ quiesce }) is holding new connections back until the socket is closed (and released). */
  private holding = false;
  /** Every connection the socket gave us, rejected ones included (for telling a quiet socket). */
  private acceptCount = 0;
  /** Connections answered 503 because the queue was full. */
  rejected = 0;
  /** Connections accepted (handed out or queued; not the rejected ones). */
  accepted = 0;

  private constructor(server: net.Server, maxQueued: number, event: 'connection' | 'secureConnection' = 'connection', busy: 'answer' | 'close' = 'answer') {
    this.server = server;
    this.maxQueued = maxQueued;
    this.busy = busy;
    server.on(event, (socket: net.Socket) => this.accept(socket));
  }

  static listen(options: ListenOptions): Promise<Listener> {
    const server = options.accept?.server ?? net.createServer({ pauseOnConnect: true, noDelay: true, allowHalfOpen: true });
    const listener = new Listener(server, options.queue, options.accept?.event, options.busy);
    const backlog = options.backlog ?? defaultBacklog();
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      const onListening = () => {
        server.off('error', reject);
        server.on('error', () => {}); // accept errors (EMFILE) are transient; keep listening
        resolve(listener);
      };
      if (options.handle) server.listen(options.handle, backlog, onListening);
      // `reusePort` is ignored by a Node that lacks it: the caller checks (see cluster/listen-mode.ts).
      else if (options.reusePort) server.listen({ host: options.host, port: options.port, backlog, reusePort: true, exclusive: true } as net.ListenOptions, onListening);
      else server.listen({ host: options.host, port: options.port, backlog }, onListening);
    });
  }

  get address(): net.AddressInfo {
    return this.server.address() as net.AddressInfo;
  }

  /** Connections accepted and waiting for a slot. */
  get waiting(): number {
    return this.queued.length;
  }

  private accept(socket: net.Socket): void {
    this.acceptCount++;
    if (this.waiter && !this.holding) {
      this.accepted++;
      const w = this.waiter;
      this.waiter = null;
      w(socket);
    } else if (this.queued.length < this.maxQueued) {
      this.accepted++;
      socket.on('error', noop); // a waiting peer may reset; the handler installs its own later
      this.queued.push(socket);
    } else {
      this.rejected++;
      // (An HTTP/2 client, by ALPN, would read the HTTP/1.1 answer as a broken frame: it gets a close.)
      if (this.busy === 'close' || (socket as { alpnProtocol?: string | false }).alpnProtocol === 'h2') socket.destroy();
      else answerAndClose(socket, BUSY_RESPONSE);
    }
  }

  /**
   * Stops accepting. Connections already queued are still yielded, then the stream ends.
   *
   * A listening socket that closes resets the connections still in its accept queue (and those
   * mid-handshake), so the socket is closed in the check phase, right after the event loop's poll
   * phase has accepted whatever the kernel had queued (libuv accepts until EAGAIN). With `quiesce`
   * it first keeps accepting without serving: new connections are held (accepted, unread, not
   * yielded), so clients that connect again as soon as they are answered stop connecting, and the
   * socket is closed once `quietMs` have passed with nothing accepted and a poll phase accepted
   * nothing either (at most `maxMs` after close(), then in the first gap of a millisecond without a
   * connection, at most CLOSE_GAP_WAIT_MS later). The held connections are yielded once the
   * socket is closed and `release` (if given) has resolved: with several processes on one port,
   * nobody's clients may come back before every socket is closed.
   */
  close(options: CloseOptions = {}): void {
    if (this.closed) return;
    this.closed = true;
    const q = options.quiesce;
    if (!q) {
      setImmediate(() => this.closeSocket(options));
      return;
    }
    this.holding = true;
    // Past `until` the socket must close, but not in the turn a connection came in (with clients
    // that keep coming, the loop wakes because one arrived, and its followers are in flight):
    // it waits for a 1 ms gap, for at most CLOSE_GAP_WAIT_MS more.
    const until = performance.now() + q.maxMs;
    const hardUntil = until + CLOSE_GAP_WAIT_MS;
    let seen = this.acceptCount;
    const again = () => {
      seen = this.acceptCount;
      setTimeout(check, performance.now() < until ? Math.min(q.quietMs, until - performance.now()) : 1);
    };
    const check = () => {
      if (this.acceptCount !== seen && performance.now() < hardUntil) return again();
      // Quiet since the last check: let one more poll phase run, close only if it accepted nothing.
      setImmediate(() => {
        if (this.acceptCount !== seen && performance.now() < hardUntil) return again();
        this.closeSocket(options);
      });
    };
    setTimeout(check, Math.min(q.quietMs, q.maxMs));
  }

  private closeSocket(options: CloseOptions): void {
    // What was accepted until now (this very turn included) is yielded and served; only then
    // does the stream end.
    this.server.close();
    this.socketClosed = true;
    options.onSocketClosed?.();
    const release = () => {
      this.holding = false;
      this.wake();
    };
    if (options.release && this.holding) options.release.then(release, release);
    else release();
  }

  /** Hands a waiting consumer the next queued connection, or the end of the stream. */
  private wake(): void {
    if (!this.waiter || this.holding) return;
    const w = this.waiter;
    const queued = this.queued.shift();
    if (queued !== undefined) {
      this.waiter = null;
      queued.off('error', noop);
      w(queued);
    } else if (this.socketClosed) {
      this.waiter = null;
      w(null);
    }
  }

  incoming(): AsyncIterableIterator<net.Socket> {
    return this[Symbol.asyncIterator]();
  }

  /**
   * The accept stream's iterator, written out rather than as an async generator: a connection
   * that finds a waiting consumer costs one promise resolution, not a generator's round of them.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<net.Socket> {
    const next = (): Promise<IteratorResult<net.Socket>> => {
      const queued = this.holding ? undefined : this.queued.shift();
      if (queued !== undefined) {
        queued.off('error', noop);
        return Promise.resolve({ value: queued, done: false });
      }
      if (this.socketClosed && !this.holding) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => {
        this.waiter = (socket) => resolve(socket === null ? { value: undefined, done: true } : { value: socket, done: false });
      });
    };
    const iterator: AsyncIterableIterator<net.Socket> = {
      next,
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }
}

function noop() {}
