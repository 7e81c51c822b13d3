// The primary process of `--workers N` (issue 3): it forks N copies of the CLI (cluster.fork()
// re-runs process.argv[1] with the same arguments), serves no requests itself, and supervises:
//
//   - start-up: waits until every worker listens, then prints ONE line,
//     `sluice listening on http://HOST:PORT/ (N workers)`. A worker that exits before it listens
//     (port in use, bad root...) fails the start-up: the others are stopped and runPrimary rejects.
//   - a worker that dies is replaced at once. One that keeps dying (it dies again less than
//     STABLE_MS = 10 s after it started listening, or before listening) is restarted with
//     exponential backoff: 0.5 s after its 2nd death in a row, then 1 s, 2 s, 4 s... up to 30 s,
//     each time with a log line naming the worker, the count and the delay. The other workers
//     keep answering meanwhile. A SIGHUP starts a backed-off slot at once (new code may fix it).
//   - SIGTERM / SIGINT: every worker drains (message 'sluice:drain': stop accepting, finish
//     in-flight requests, close idle connections, stop its spawn() pool, exit 0); the primary
//     SIGKILLs any worker still alive DRAIN_GRACE_MS after the deadline, then exits 0. A second
//     SIGTERM/SIGINT kills the workers at once. Workers ignore SIGINT, so a terminal's Ctrl-C, which
//     reaches the whole process group, is orchestrated here rather than killing them mid-request.
//   - SIGHUP: rolling restart. One worker at a time, a new worker is forked and must be listening
//     before the old one is told to drain, so the port is never left without a ready worker and no
//     request fails. (Deploy new code, then SIGHUP: the new workers load it.) If a new worker does
//     not come up, the rolling restart stops and the remaining old workers keep serving.
//
// Limits with several workers: --concurrency and --queue are per worker process. Each worker
// serves up to --concurrency connections at once and keeps up to --queue accepted connections
// waiting for a slot (503 beyond that), so the server as a whole serves up to
// workers × concurrency connections with up to workers × queue waiting. Likewise each worker has
// its own spawn() pool of --threads threads: workers × threads task threads in all.
//
// Scheduling policy: round-robin, cluster.SCHED_RR (also Node's default, except on Windows).
// SCHED_NONE gives every worker the listening socket and lets them race in accept(): the primary
// is out of the data path, so it wins when every request opens a new connection. Measured on a
// 2-core box, 2 workers, 20 clients each opening a new connection per request: ~2000-2350 req/s
// with SCHED_NONE vs ~950-1150 with RR (the primary's accept + descriptor pass over IPC is the
// cost). But the kernel wakes every waiting worker and the one already running tends to win, so
// connections land unevenly: 50 simultaneous connections split 41/9, 48/2, 43/7, 20/30 under
// SCHED_NONE vs 30/20, 34/16, 28/22 under RR (Node's docs report 70% of connections on 2 of 8
// processes). HTTP/1.1 clients keep a connection for many requests, so an uneven split lasts for
// the connections' whole life, and on a machine with many cores the unlucky workers saturate
// while others idle. With keep-alive the primary's cost disappears (50 keep-alive connections:
// ~22k req/s under both policies on the 2-core box, where client and server share the cores).
// We favour even, load-aware spreading of long-lived connections over the connection rate. RR
// is load-aware too: the primary hands a worker its next connection only once that worker has
// acked the previous one, so a worker whose event loop is stuck stops receiving connections.
// NODE_CLUSTER_SCHED_POLICY=none (Node's own variable) or the
// `schedulingPolicy` option selects SCHED_NONE; both policies pass the tests here, including
// lossless rolling restarts (see closeOrphanedHandoffs() for the one RR weakness, patched over).
//
// Rolling restarts and accept queues: the listening socket lives in the primary under both
// policies (RR: the primary accepts; NONE: it keeps the shared handle), and a worker is only told
// to drain once its replacement listens, so the kernel's accept queue is never closed under load.
// Under RR a connection handed to a worker that has just stopped listening is sent back and given
// to another worker. What a draining worker has accepted but not yet read (its own queue, a new
// connection whose request is still in flight) must be answered by the engine's drain, not closed.
import cluster, { type Worker } from 'node:cluster';

export interface PrimaryOptions {
  workers: number;
  /** Deadline for draining on SIGTERM/SIGINT, per worker (and for the old worker in a rolling restart). */
  shutdownTimeoutMs: number;
  log: (line: string) => void;
  /**
   * 'rr' (the primary accepts and hands connections out) or 'none' (workers accept themselves).
   * Default: NODE_CLUSTER_SCHED_POLICY if set, else 'rr' (Node's default; 'none' on Windows).
   */
  schedulingPolicy?: 'rr' | 'none';
  /** How long a new worker may take to listen. Default 30000 ms. */
  startTimeoutMs?: number;
  /** First backoff delay for a worker that keeps dying. Default 500 ms (then doubling). */
  backoffInitialMs?: number;
  /** Longest backoff delay. Default 30000 ms. */
  backoffMaxMs?: number;
  /** Exit the process when shutdown completes (SIGTERM/SIGINT). Default true. */
  exitOnShutdown?: boolean;
  /** The start-up line's URL scheme. Default 'http'. */
  scheme?: 'http' | 'https';
  /** Said after the worker count in the start-up line, e.g. the TLS set-up. */
  listeningNote?: string;
}

/** runPrimary's rejection when a worker fails to start: `exitCode` is that worker's (e.g. 2 for a port in use). */
export class StartupError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.name = 'StartupError';
    this.exitCode = exitCode;
  }
}

/** A worker that lived at least this long after listening did not "keep dying". */
export const STABLE_MS = 10_000;
/** Extra time after the drain deadline before the primary SIGKILLs a worker. */
export const DRAIN_GRACE_MS = 3_000;

/** The message the primary sends a worker to make it drain and exit (see worker.ts). */
export interface DrainMessage { cmd: 'sluice:drain'; deadlineMs: number }
export function isDrainMessage(m: unknown): m is DrainMessage {
  return typeof m === 'object' && m !== null && (m as { cmd?: unknown }).cmd === 'sluice:drain';
}

interface Slot {
  index: number;
  /** The worker this slot is running (null while waiting for a backoff restart). */
  worker: Worker | null;
  /** When slot.worker started listening (0: not yet). */
  listeningAt: number;
  /** Unexpected deaths in a row, each within STABLE_MS of listening (or before listening). */
  failures: number;
  timer: NodeJS.Timeout | null;
}

interface Tracked {
  exited: Promise<void>;
  listening: boolean;
}

/**
 * Forks the workers, prints the start-up line once, supervises, handles SIGTERM/SIGINT/SIGHUP.
 * Resolves once every worker listens and the start-up line is printed; rejects (after stopping
 * the workers) if one of them fails to start. The process then belongs to the supervisor: on
 * SIGTERM/SIGINT it drains the workers and exits 0.
 */
export async function runPrimary(options: PrimaryOptions): Promise<void> {
  if (!cluster.isPrimary) throw new Error('runPrimary: call it in the cluster primary');
  if (!Number.isInteger(options.workers) || options.workers < 1) throw new RangeError(`runPrimary: workers must be an integer >= 1, got ${options.workers}`);
  const log = options.log;
  const n = options.workers;
  const deadlineMs = options.shutdownTimeoutMs;
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const backoffInitialMs = options.backoffInitialMs ?? 500;
  const backoffMaxMs = options.backoffMaxMs ?? 30_000;

  const policy = options.schedulingPolicy ?? envPolicy();
  if (policy === 'rr') cluster.schedulingPolicy = cluster.SCHED_RR;
  else if (policy === 'none') cluster.schedulingPolicy = cluster.SCHED_NONE;
  cluster.setupPrimary({ silent: false }); // workers share our stdout/stderr

  const tracked = new Map<Worker, Tracked>();
  const slots: Slot[] = Array.from({ length: n }, (_, index) => ({ index, worker: null, listeningAt: 0, failures: 0, timer: null }));
  let started = false;
  let shuttingDown = false;
  let restarting = false;
  let restartAgain = false;

  function fork(): Worker {
    const w = cluster.fork();
    const t: Tracked = { exited: new Promise((resolve) => w.once('exit', () => resolve())), listening: false };
    tracked.set(w, t);
    w.once('listening', () => { t.listening = true; });
    w.once('exit', () => tracked.delete(w));
    // IPC errors (a send racing the worker's death) must not crash the primary.
    w.on('error', () => {});
    closeOrphanedHandoffs(w);
    return w;
  }

  /** Resolves with the listening address, or with the reason the worker did not start. */
  function whenListening(w: Worker): Promise<{ address: string; port: number } | { failed: string }> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { cleanup(); w.process.kill('SIGKILL'); resolve({ failed: `did not listen within ${startTimeoutMs} ms` }); }, startTimeoutMs);
      const onListening = (addr: { address: string | null; port: number }) => { cleanup(); resolve({ address: addr.address ?? '127.0.0.1', port: addr.port }); };
      const onExit = (code: number | null, signal: string | null) => { cleanup(); resolve({ failed: describeExit(code, signal) }); };
      const cleanup = () => { clearTimeout(timer); w.off('listening', onListening); w.off('exit', onExit); };
      w.once('listening', onListening);
      w.once('exit', onExit);
    });
  }

  /** Tells a worker to drain and waits for it to exit, killing it DRAIN_GRACE_MS after the deadline. */
  function retire(w: Worker, ms: number): Promise<void> {
    const t = tracked.get(w);
    if (!t || w.isDead()) return Promise.resolve();
    if (t.listening && w.isConnected()) {
      const msg: DrainMessage = { cmd: 'sluice:drain', deadlineMs: ms };
      w.send(msg, undefined, () => {}); // errors (worker died meanwhile) are fine: its exit resolves us
    } else {
      // Not listening yet (its runWorker may not be installed), or IPC is gone: SIGTERM drains a
      // worker that runs runWorker and simply ends one that does not serve yet.
      w.process.kill('SIGTERM');
    }
    const killer = setTimeout(() => {
      if (w.isDead()) return;
      log(`sluice: worker ${w.process.pid} still running ${(ms + DRAIN_GRACE_MS) / 1000} s after it was told to drain; killing it`);
      w.process.kill('SIGKILL');
    }, ms + DRAIN_GRACE_MS);
    return t.exited.finally(() => clearTimeout(killer));
  }

  /** Puts `w` in `slot`, returning the worker it displaces (if any). */
  function adopt(slot: Slot, w: Worker | null): Worker | null {
    if (slot.timer) { clearTimeout(slot.timer); slot.timer = null; }
    const prev = slot.worker;
    slot.worker = w;
    slot.listeningAt = 0;
    if (w) {
      const t = tracked.get(w);
      if (t?.listening) slot.listeningAt = Date.now();
      else w.once('listening', () => { if (slot.worker === w) slot.listeningAt = Date.now(); });
      w.once('exit', (code, signal) => onExit(slot, w, code, signal));
    }
    return prev === w ? null : prev;
  }

  function onExit(slot: Slot, w: Worker, code: number | null, signal: string | null): void {
    // Only the slot's current worker is supervised: retired workers, and new workers of a rolling
    // restart that have not taken over yet, are someone else's business.
    if (shuttingDown || !started || slot.worker !== w) return;
    const lived = slot.listeningAt ? Date.now() - slot.listeningAt : 0;
    if (slot.listeningAt && lived >= STABLE_MS) slot.failures = 0;
    slot.failures++;
    slot.worker = null;
    slot.listeningAt = 0;
    const how = describeExit(code, signal);
    if (slot.failures === 1) {
      log(`sluice: worker ${w.process.pid} ${how}; starting a replacement`);
      replace(slot, w.process.pid);
      return;
    }
    const delay = Math.min(backoffInitialMs * 2 ** (slot.failures - 2), backoffMaxMs);
    log(`sluice: worker ${w.process.pid} ${how}, the ${ordinal(slot.failures)} crash in a row of worker slot ${slot.index + 1} ` +
        `(each within ${STABLE_MS / 1000} s of starting); restarting it in ${formatSeconds(delay)}`);
    slot.timer = setTimeout(() => { slot.timer = null; replace(slot, w.process.pid); }, delay);
  }

  function replace(slot: Slot, oldPid: number | undefined): void {
    if (shuttingDown) return;
    const w = fork();
    adopt(slot, w);
    void whenListening(w).then((r) => {
      if ('failed' in r) return; // onExit handles it (or a timeout killed it, which also ends in onExit)
      if (slot.worker === w) log(`sluice: worker ${w.process.pid} listening (replaces ${oldPid})`);
    });
  }

  async function rollingRestart(): Promise<void> {
    if (shuttingDown) return;
    if (!started) {
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
          if (shuttingDown) return;
          const fresh = fork();
          const r = await whenListening(fresh);
          if (shuttingDown) return; // shutdown drains `fresh` too
          if ('failed' in r) {
            log(`sluice: rolling restart stopped: new worker ${fresh.process.pid} ${r.failed}; ` +
                `${n - replaced} old worker${n - replaced === 1 ? '' : 's'} keep serving`);
            restartAgain = false;
            return;
          }
          const old = adopt(slot, fresh);
          slot.failures = 0;
          if (old) await retire(old, deadlineMs);
          replaced++;
        }
        log(`sluice: rolling restart done (${n} new workers)`);
      } while (restartAgain && !shuttingDown);
    } finally {
      restarting = false;
    }
  }

  let forceRequested = false;
  async function shutdown(signal: string): Promise<void> {
    if (shuttingDown) {
      if (forceRequested) return;
      forceRequested = true;
      log(`sluice: ${signal} again: killing the workers now`);
      for (const w of tracked.keys()) w.process.kill('SIGKILL');
      return;
    }
    shuttingDown = true;
    for (const slot of slots) if (slot.timer) { clearTimeout(slot.timer); slot.timer = null; }
    const all = [...tracked.keys()];
    log(`sluice: ${signal}: draining ${all.length} worker${all.length === 1 ? '' : 's'} (deadline ${formatSeconds(deadlineMs)})`);
    await Promise.all(all.map((w) => retire(w, deadlineMs)));
    // Workers forked after the snapshot (none should be: fork() is guarded) would be waited here.
    while (tracked.size > 0) await Promise.all([...tracked.keys()].map((w) => retire(w, deadlineMs)));
    if (options.exitOnShutdown !== false) process.exit(0);
    removeSignalHandlers();
  }

  const onTerm = () => void shutdown('SIGTERM');
  const onInt = () => void shutdown('SIGINT');
  const onHup = () => void rollingRestart();
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  process.on('SIGHUP', onHup);
  const removeSignalHandlers = () => {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    process.off('SIGHUP', onHup);
  };

  // Start-up.
  const first = slots.map((slot) => { const w = fork(); adopt(slot, w); return w; });
  // Every worker listening, or the first failure (without waiting for the others).
  const results = await new Promise<Array<{ address: string; port: number } | { failed: string }>>((resolve) => {
    const all: Array<{ address: string; port: number } | { failed: string }> = [];
    let left = first.length;
    first.forEach((w, i) => void whenListening(w).then((r) => {
      all[i] = r;
      if ('failed' in r || --left === 0) resolve(all);
    }));
  });
  if (shuttingDown) return; // a signal arrived during start-up: shutdown() drains and exits
  const failed = results.findIndex((r) => r !== undefined && 'failed' in r);
  if (failed >= 0) {
    shuttingDown = true;
    await Promise.all([...tracked.keys()].map((w) => retire(w, deadlineMs)));
    removeSignalHandlers();
    const r = results[failed] as { failed: string };
    const w = first[failed]!;
    throw new StartupError(`worker ${w.process.pid} ${r.failed} during start-up`, w.process.exitCode || 1);
  }
  started = true;
  // Deaths during start-up were handled above; a worker that listened and then died before
  // `started` was set is caught here.
  for (const slot of slots) {
    const w = slot.worker;
    if (w && w.isDead()) onExit(slot, w, w.process.exitCode, w.process.signalCode);
  }
  const { address, port } = results[0] as { address: string; port: number };
  const host = address.includes(':') ? `[${address}]` : address;
  const note = options.listeningNote ? `; ${options.listeningNote}` : '';
  log(`sluice listening on ${options.scheme ?? 'http'}://${host}:${port}/ (${n} worker${n === 1 ? '' : 's'}${note})`);
}

/**
 * With SCHED_RR the primary accepts a connection and sends its handle to a worker, keeping its own
 * copy open until the worker acks it. If the worker dies (SIGKILL, crash) with a hand-off in
 * flight, the ack never comes and Node's cluster keeps that copy forever: the client hangs with
 * no answer and the primary leaks the descriptor. So we note the hand-offs sent to each worker
 * (cluster's internal 'newconn' messages, which carry a `seq` the worker acks) and, once the
 * worker's IPC channel is gone or it has exited (no ack can come any more), close the ones still unacked: the
 * client sees the connection fail at once, like the dead worker's other connections. This leans
 * on the shape of cluster's internal messages; if that ever changes, nothing matches and the
 * code does nothing.
 */
function closeOrphanedHandoffs(w: Worker): void {
  const proc = w.process as unknown as {
    send: (message: unknown, handle?: unknown, ...rest: unknown[]) => boolean;
    on(event: 'internalMessage', listener: (message: unknown) => void): void;
    once(event: 'disconnect', listener: () => void): void;
  };
  if (typeof proc.send !== 'function') return;
  const pending = new Map<number, { close(): void }>();
  const send = proc.send;
  proc.send = function (this: unknown, message: unknown, handle?: unknown, ...rest: unknown[]) {
    const m = message as { cmd?: unknown; act?: unknown; seq?: unknown } | null;
    if (m && m.cmd === 'NODE_CLUSTER' && m.act === 'newconn' && typeof m.seq === 'number' &&
        handle && typeof (handle as { close?: unknown }).close === 'function') {
      pending.set(m.seq, handle as { close(): void });
    }
    return send.call(this, message, handle, ...rest);
  };
  proc.on('internalMessage', (message) => {
    const m = message as { cmd?: unknown; ack?: unknown } | null;
    if (m && m.cmd === 'NODE_CLUSTER' && typeof m.ack === 'number') pending.delete(m.ack);
  });
  const closePending = () => {
    for (const handle of pending.values()) {
      try { handle.close(); } catch { /* already closed */ }
    }
    pending.clear();
  };
  proc.once('disconnect', closePending);
  // 'disconnect' never comes when the channel dies with a handle awaiting its NODE_HANDLE_ACK
  // (child_process postpones it until that ack, which a dead process never sends), so the exit
  // counts too: once the channel is down every ack that was sent has been read.
  w.once('exit', () => {
    if (!w.process.connected) closePending();
    else setTimeout(closePending, 1000).unref();
  });
}

function envPolicy(): 'rr' | 'none' | undefined {
  const v = process.env.NODE_CLUSTER_SCHED_POLICY;
  return v === 'rr' || v === 'none' ? v : undefined;
}

function describeExit(code: number | null, signal: string | null): string {
  if (signal) return `was killed by ${signal}`;
  return `exited with code ${code}`;
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
}

function ordinal(k: number): string {
  const s = k % 100 >= 11 && k % 100 <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[k % 10] ?? 'th';
  return `${k}${s}`;
}
