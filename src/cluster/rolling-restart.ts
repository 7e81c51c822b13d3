// SIGHUP in the primary: a rolling restart. One worker slot at a time, a new worker is forked and
// must be listening before the slot's old worker is told to drain, so the port is never left
// without a ready worker. A new worker that does not come up stops the restart (the remaining old
// workers keep serving); a SIGHUP during a restart queues one more after it.
import type { Worker } from 'node:cluster';

/** What the restart needs from the supervisor (src/cluster/primary.ts). */
export interface RestartSupervisor<S> {
  slots: readonly S[];
  log: (line: string) => void;
  /** Drain deadline for the old worker of each slot. */
  deadlineMs: number;
  started(): boolean;
  shuttingDown(): boolean;
  fork(slot: S): Worker;
  whenListening(w: Worker): Promise<{ address: string; port: number } | { failed: string }>;
  /** Puts `w` in `slot` (its failure count reset), returning the worker it displaces. */
  adopt(slot: S, w: Worker): Worker | null;
  retire(w: Worker, ms: number): Promise<void>;
}

/** The SIGHUP handler of a supervisor. */
export function rollingRestarter<S>(sup: RestartSupervisor<S>): () => Promise<void> {
  const { log, slots } = sup;
  const n = slots.length;
  let restarting = false;
  let restartAgain = false;
  return async function rollingRestart(): Promise<void> {
    if (sup.shuttingDown()) return;
    if (!sup.started()) {
      log('sluice: SIGHUP during start-up ignored');
      return;
    }
    if (restarting) {
      restartAgain = true;
      log('sluice: SIGHUP during a rolling restart: another one will follow it');
      return;
    }
    restarting = true;
    try {
      do {
        restartAgain = false;
        log(`sluice: SIGHUP: rolling restart of ${n} workers`);
        let replaced = 0;
        for (const slot of slots) {
          if (sup.shuttingDown()) return;
          const fresh = sup.fork(slot);
          const r = await sup.whenListening(fresh);
          if (sup.shuttingDown()) return; // shutdown drains `fresh` too
          if ('failed' in r) {
            log(`sluice: rolling restart stopped: new worker ${fresh.process.pid} ${r.failed}; ` +
                `${n - replaced} old worker${n - replaced === 1 ? '' : 's'} keep serving`);
            restartAgain = false;
            return;
          }
          const old = sup.adopt(slot, fresh);
          if (old) await sup.retire(old, sup.deadlineMs);
          replaced++;
        }
        log(`sluice: rolling restart done (${n} new workers)`);
      } while (restartAgain && !sup.shuttingDown());
    } finally {
      restarting = false;
    }
  };
}
