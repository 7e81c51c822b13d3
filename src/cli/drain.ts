// SIGTERM / SIGINT in a process that serves alone: not ready for --drain-delay while still
// serving, then drain within the deadline and exit 0. A second signal cuts the delay short.
// The listening socket quiesces before it closes (Listener.close): a socket that closes resets
// whatever waits in its accept queue, so new connections are held until it is quiet, then served.
import type { Lifecycle } from '../server/lifecycle.js';
import { quiesceFor } from '../server/listener.js';
import { closeSpawnPool } from '../threads/spawn.js';
import type { Served } from './listen.js';

export function drainOnSignals(server: Served, lifecycle: Lifecycle, drainDelayMs: number, shutdownTimeoutMs: number): void {
  let stopping = false;
  let skipDelay: (() => void) | null = null;
  const stop = (signal: string) => {
    if (stopping) { skipDelay?.(); return; }
    stopping = true;
    lifecycle.to('draining');
    const drain = () => {
      skipDelay = null;
      // Worded like the primary's line with --workers (deadline in seconds).
      console.log(`sluice: ${signal}: draining ${server.connections} connection(s) (deadline ${shutdownTimeoutMs / 1000} s)`);
      void server.close(shutdownTimeoutMs, { quiesce: quiesceFor(shutdownTimeoutMs) }).then(async () => {
        await closeSpawnPool();
        process.exit(0);
      });
    };
    if (drainDelayMs === 0) return drain();
    // Not ready, but serving as usual (accepting, keep-alive) while the balancers notice.
    console.log(`sluice: ${signal}: not ready; serving ${drainDelayMs} ms more before draining`);
    const delayed = setTimeout(drain, drainDelayMs);
    skipDelay = () => { clearTimeout(delayed); drain(); };
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
