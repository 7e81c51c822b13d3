// The worker side of `--workers N`. The primary (primary.ts) owns the life cycle:
//
//   - message {cmd: 'sluice:drain', deadlineMs}: stop accepting, finish in-flight requests
//     (server.close(deadlineMs)), stop the spawn() pool, exit 0. With `quiesce` (the primary is
//     shutting down, so the port goes away), the listening socket is closed only once it is quiet
//     (Listener.close: new connections are held meanwhile), 'sluice:closed' tells the primary, and
//     the held connections are served on 'sluice:release' (every worker's socket is closed by then),
//     or RELEASE_WAIT_MS after our close if that never comes.
//   - SIGTERM: the same, quiescing (a service manager may signal every process of the group at once).
//   - SIGINT, SIGHUP: ignored. A terminal's Ctrl-C reaches the whole process group; the primary
//     gets it too and tells each worker to drain, rather than every worker dying mid-request.
//   - the IPC channel closes (the primary died): drain and exit. (Node's cluster would otherwise
//     exit the worker at once, dropping its in-flight requests.)
// A drain that takes longer than its deadline + DRAIN_WATCHDOG_MS ends the process with code 1.
// Once its server listens, the worker tells the primary ('sluice:listening', with its listening
// socket attached under reusePort: see listen-mode.ts).
import cluster from 'node:cluster';
import { quiesceFor } from '../server/listener.js';
import type { Server } from '../server/server.js';
import { closeSpawnPool } from '../threads/spawn.js';
import { ENV_REUSEPORT_PORT, inheritedListener, listeningHandleOf } from './listen-mode.js';
import { isDrainMessage, isReleaseMessage, type ClosedMessage, type ListeningMessage } from './messages.js';

export interface WorkerOptions {
  /** Drain deadline when none comes with the request (SIGTERM, primary gone). Default 10000 ms. */
  shutdownTimeoutMs?: number;
  /** Where to report a drain that failed. Default console.error. */
  log?: (line: string) => void;
}

export const DRAIN_WATCHDOG_MS = 1_500;
/** How long held connections wait for 'sluice:release' after our own socket closed (at most a quarter of the deadline). */
export const RELEASE_WAIT_MS = 1_000;

let installed = false;

/** Called in a cluster worker once its server listens: obey the primary's drain/shutdown messages. */
export function runWorker(server: Server, options: WorkerOptions = {}): void {
  if (!cluster.isWorker || !cluster.worker) throw new Error('runWorker: call it in a cluster worker');
  if (installed) throw new Error('runWorker: already called in this process');
  installed = true;
  const log = options.log ?? ((line: string) => console.error(line));
  const defaultDeadline = options.shutdownTimeoutMs ?? 10_000;
  let draining = false;

  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => { release = resolve; });

  const drain = (deadlineMs: number, why: string, quiesce: 'no' | 'alone' | 'together') => {
    if (draining) return;
    draining = true;
    const watchdog = setTimeout(() => {
      log(`sluice: worker ${process.pid} could not drain within ${deadlineMs + DRAIN_WATCHDOG_MS} ms (${why}); exiting`);
      process.exit(1);
    }, deadlineMs + DRAIN_WATCHDOG_MS);
    const how = quiesce === 'no' ? {} : {
      quiesce: quiesceFor(deadlineMs),
      release: quiesce === 'together' ? released : undefined,
      onSocketClosed: () => {
        if (quiesce !== 'together') return;
        const closed: ClosedMessage = { cmd: 'sluice:closed' };
        if (process.connected) process.send?.(closed, undefined, undefined, () => {});
        setTimeout(release, Math.min(RELEASE_WAIT_MS, deadlineMs / 4)).unref();
      },
    };
    server.close(deadlineMs, how)
      .then(() => closeSpawnPool())
      .then(
        () => { clearTimeout(watchdog); process.exit(0); },
        (err: unknown) => {
          log(`sluice: worker ${process.pid} failed to drain (${why}): ${err instanceof Error ? err.message : String(err)}`);
          process.exit(1);
        },
      );
  };

  keepServingWhenOrphaned(cluster.worker, log);
  process.on('disconnect', () => { release(); drain(defaultDeadline, 'the primary is gone', 'alone'); });
  process.on('message', (m: unknown) => {
    if (isDrainMessage(m)) drain(validDeadline(m.deadlineMs) ?? defaultDeadline, 'asked by the primary', m.quiesce === true ? 'together' : 'no');
    else if (isReleaseMessage(m)) release();
  });
  process.on('SIGTERM', () => drain(defaultDeadline, 'SIGTERM', 'together'));
  process.on('SIGINT', () => {});
  process.on('SIGHUP', () => {});

  const addr = server.netServer.address();
  const listening: ListeningMessage = {
    cmd: 'sluice:listening',
    address: typeof addr === 'object' && addr ? addr.address : server.host,
    port: server.port,
    inherited: inheritedListener(),
  };
  const handle = process.env[ENV_REUSEPORT_PORT] !== undefined ? listeningHandleOf(server.netServer) : null;
  process.send?.(listening, (handle ?? undefined) as never, undefined, () => {});
}

/**
 * Node's cluster makes a worker whose IPC channel closes unexpectedly exit on the spot (in
 * lib/internal/cluster/child.js: "Unexpected disconnect, primary exited...") unless the worker's
 * `exitedAfterDisconnect` is set, so we set it and the 'disconnect' handler drains first. This
 * leans on how Node reads that property, which is documented only as a report. Feature detection:
 * the property must be the worker's own (Node sets it, undefined, in the constructor; fallback: if Node drops it, an orphaned worker exits at
 * once, dropping its in-flight requests, as plain Node does; logged). test/cluster-internals.test.ts
 * fails if an orphaned worker stops finishing its in-flight request.
 */
function keepServingWhenOrphaned(worker: NonNullable<typeof cluster.worker>, log: (line: string) => void): void {
  if (!Object.prototype.hasOwnProperty.call(worker, 'exitedAfterDisconnect')) {
    log(`sluice: worker ${process.pid}: this Node's cluster has no exitedAfterDisconnect; if the primary dies, in-flight requests are cut`);
    return;
  }
  worker.exitedAfterDisconnect = true;
}

function validDeadline(ms: unknown): number | undefined {
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}
