// How cluster workers get their listening socket.
//
//   'rr', 'none'   Node's cluster: the primary owns the one listening socket. Under RR it accepts
//                  and passes each connection to a worker over IPC (a message and a descriptor per
//                  connection); under NONE the workers share the socket and race in accept().
//   'reuseport'    every worker slot has its own socket on the shared port (SO_REUSEPORT, bound by
//                  the worker with `exclusive`), and the kernel spreads new connections among them
//                  by a hash of the address pair: no hand-off per connection. Needs a Node whose
//                  net.Server.listen knows `reusePort` (22.12 / 23.1 and later) on a kernel with
//                  SO_REUSEPORT (Linux, BSDs); reusePortAvailable() checks both by trying.
//
// Zero-downtime reload under 'reuseport'. A listening socket that closes resets the connections
// still in its accept queue, so a worker being replaced must not close the slot's socket. Instead
// the socket outlives its workers: the first worker of a slot binds it and sends the primary a
// duplicate of its descriptor with the 'sluice:listening' message; the primary keeps it (never
// listening or accepting on it itself) and hands it to the slot's next worker ('sluice:listener'
// in answer to 'sluice:want-listener'). During a rolling restart old and new worker both accept
// from the same socket; when the old one drains and closes its descriptor the socket lives on in
// the new one, and nothing queued is lost. A worker that cannot get the socket (no handle, Node
// without `_handle`, no answer within INHERIT_TIMEOUT_MS) binds a new one on the port instead.
import cluster from 'node:cluster';
import net from 'node:net';
import { isListenerMessage, isSocketHandle, type SocketHandle, type WantListenerMessage } from './messages.js';

export type ListenMode = 'rr' | 'none' | 'reuseport';

/** Environment of a worker forked under 'reuseport': the port to bind, and whether to ask for the slot's socket first. */
export const ENV_REUSEPORT_PORT = 'SLUICE_REUSEPORT_PORT';
export const ENV_INHERIT = 'SLUICE_INHERIT_LISTENER';
export const INHERIT_TIMEOUT_MS = 5_000;

/** Whether this Node's version has net.Server.listen({ reusePort }) (22.12+, 23.1+). */
export function nodeHasReusePort(version = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major >= 24 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

/**
 * Whether two sockets can listen on one port with reusePort here. An older Node ignores the
 * option (the second bind then fails with EADDRINUSE), a platform without SO_REUSEPORT refuses it:
 * either way the answer is false and the cluster keeps Node's round-robin.
 */
export async function reusePortAvailable(host = '127.0.0.1'): Promise<boolean> {
  if (!nodeHasReusePort()) return false;
  const listen = (port: number) => new Promise<net.Server | null>((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(null));
    s.listen({ host, port, reusePort: true } as net.ListenOptions, () => resolve(s));
  });
  const a = await listen(0);
  if (!a) return false;
  const b = await listen((a.address() as net.AddressInfo).port);
  a.close();
  b?.close();
  return b !== null;
}

/**
 * The listening socket's handle of `server`, to send over IPC, or null. This reads net.Server's
 * undocumented `_handle` (a TCP wrap with a numeric `fd` on Unix); should Node change that, the
 * result is null and the slot's next worker binds a socket of its own (see above).
 */
export function listeningHandleOf(server: net.Server): SocketHandle | null {
  const h = (server as unknown as { _handle?: unknown })._handle;
  return isSocketHandle(h) && typeof h.fd === 'number' && h.fd >= 0 ? h : null;
}

let inherited = false;
/** In a worker: whether workerListenOptions() got the slot's socket from the primary. */
export function inheritedListener(): boolean {
  return inherited;
}

/** In a worker: the ServeOptions that make it listen the way the primary chose (empty: cluster's shared socket). */
export async function workerListenOptions(): Promise<{ reusePort?: boolean; port?: number; listenHandle?: object }> {
  const port = process.env[ENV_REUSEPORT_PORT];
  if (!cluster.isWorker || port === undefined) return {};
  if (process.env[ENV_INHERIT] === '1') {
    const handle = await askForListener();
    if (handle) {
      inherited = true;
      return { listenHandle: handle };
    }
  }
  // '' for the first worker: it binds the configured port (maybe 0), the others then join it.
  return port === '' ? { reusePort: true } : { reusePort: true, port: Number(port) };
}

function askForListener(): Promise<object | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(null), INHERIT_TIMEOUT_MS);
    const onMessage = (m: unknown, handle: unknown) => {
      if (isListenerMessage(m)) done(isSocketHandle(handle) ? handle : null);
    };
    const done = (h: object | null) => {
      clearTimeout(timer);
      process.off('message', onMessage);
      resolve(h);
    };
    process.on('message', onMessage);
    const want: WantListenerMessage = { cmd: 'sluice:want-listener' };
    process.send?.(want, undefined, undefined, (err: Error | null) => { if (err) done(null); });
  });
}
