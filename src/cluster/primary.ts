// The primary process of `--workers N`: it forks N copies of the CLI (cluster.fork()
// re-runs process.argv[1] with the same arguments), serves no requests itself, and supervises:
//
//   - start-up: waits until every worker listens, then prints ONE line,
//     `sluice listening on http://HOST:PORT/ (N workers[, reusePort])`. A worker that exits before it listens
//     (port in use, bad root...) fails the start-up: the others are stopped and runPrimary rejects.
//   - a worker that dies is replaced at once. One that keeps dying (it dies again less than
//     STABLE_MS = 10 s after it started listening, or before listening; backoff.ts) is restarted with
//     exponential backoff: 0.5 s after its 2nd death in a row, then 1 s, 2 s, 4 s... up to 30 s,
//     each time with a log line naming the worker, the count and the delay. The other workers
//     keep answering meanwhile. A SIGHUP starts a backed-off slot at once (new code may fix it).
//   - SIGTERM / SIGINT: every worker drains (message 'sluice:drain': stop accepting, finish
//     in-flight requests, close idle connections, stop its spawn() pool, exit 0). Each worker's
//     listening socket first quiesces (new connections are held, the socket closes once none came
//     for a moment: a closing socket resets what waits in its accept queue, and under RR the
//     primary closes what it accepted but had not handed out when the last worker leaves); the
//     held connections are served once every worker has said 'sluice:closed' ('sluice:release').
//     The primary SIGKILLs any worker still alive DRAIN_GRACE_MS after the deadline, then exits 0. A second
//     SIGTERM/SIGINT kills the workers at once. Workers ignore SIGINT, so a terminal's Ctrl-C, which
//     reaches the whole process group, is orchestrated here rather than killing them mid-request.
//   - SIGHUP: rolling restart (rolling-restart.ts). One worker at a time, a new worker is forked and
//     must be listening before the old one is told to drain, so the port is never left without a
//     ready worker and no request fails. (Deploy new code, then SIGHUP: the new workers load it.) If
//     a new worker does not come up, the rolling restart stops and the remaining old workers keep serving.
//
// Limits with several workers: --concurrency and --queue are per worker process. Each worker
// serves up to --concurrency connections at once and keeps up to --queue accepted connections
// waiting for a slot (503 beyond that), so the server as a whole serves up to
// workers × concurrency connections with up to workers × queue waiting. Likewise each worker has
// its own spawn() pool of --threads threads: workers × threads task threads in all.
//
// How connections reach the workers (see listen-mode.ts): where the running Node has
// `reusePort` (22.12 / 23.1 and later, checked by trying), every worker slot has its own listening
// socket on the shared port (SO_REUSEPORT) and the kernel spreads new connections among them: the
// primary is out of the data path, so a new connection costs what it costs a single process.
// Elsewhere, round-robin (cluster.SCHED_RR): the primary accepts and hands each connection to a
// worker over IPC, which roughly halves the rate of new connections on a small machine but keeps
// long-lived keep-alive connections evenly spread and load-aware (a worker whose event loop is
// stuck has not acked its last connection and gets no more). SCHED_NONE (workers race in
// accept() on one shared socket) spreads connections unevenly (the kernel wakes every waiter and
// the one already running tends to win, 41/9 of 50 connections here) and is only used when asked
// for: the `schedulingPolicy` option or NODE_CLUSTER_SCHED_POLICY (Node's own variable), which
// also select 'rr' over 'reuseport'. reusePort's hash spreads connections about evenly, but is
// not load-aware.
//
// Rolling restarts and accept queues: a worker is only told to drain once its replacement
// listens, and no listening socket is closed under load: under RR and NONE it lives in the
// primary; under reusePort each slot's socket outlives its workers (the primary keeps a
// duplicate and hands it to the next worker of the slot, see listen-mode.ts). Under RR a
// connection handed to a worker that has just stopped listening is sent back and given to
// another worker (see handoff-patch.ts for the one RR weakness, patched over). What a draining
// worker has accepted but not yet read must be answered by the engine's drain, not closed.
import cluster, { type Worker } from 'node:cluster';
import type { Lifecycle } from '../server/lifecycle.js';
import { closeOrphanedHandoffs } from './handoff-patch.js';
import { rollingRestarter } from './rolling-restart.js';
import { STABLE_MS, backoffDelay, describeExit, formatSeconds, ordinal } from './backoff.js';
import { ENV_INHERIT, ENV_REUSEPORT_PORT, reusePortAvailable, type ListenMode } from './listen-mode.js';
import {
  isClosedMessage, isListeningMessage, isSocketHandle, isWantListenerMessage,
  type DrainMessage, type ListenerMessage, type ReleaseMessage, type SocketHandle,
} from './messages.js';

export { isDrainMessage, type DrainMessage } from './messages.js';

const RELEASE: ReleaseMessage = { cmd: 'sluice:release' };

export interface PrimaryOptions {
  workers: number;
  /** Deadline for draining on SIGTERM/SIGINT, per worker (and for the old worker in a rolling restart). */
  shutdownTimeoutMs: number;
  log: (line: string) => void;
  /**
   * 'reuseport' (a socket per worker, the kernel balances), 'rr' (the primary accepts and hands
   * connections out) or 'none' (workers accept from one shared socket). Default: 'rr' or 'none'
   * if NODE_CLUSTER_SCHED_POLICY says so, else 'reuseport' where this Node and kernel have it,
   * else 'rr'. 'reuseport' where it is not available falls back to 'rr'.
   */
  schedulingPolicy?: ListenMode;
  /**
   * Under 'reuseport', hand each slot's listening socket on to the slot's next worker (default
   * true). false: a new worker binds a socket of its own and the old socket closes when the old
   * worker has drained, resetting whatever is in its accept queue (kept to measure the difference).
   */
  inheritListeners?: boolean;
  /** How long a new worker may take to listen. Default 30000 ms. */
  startTimeoutMs?: number;
  /** First backoff delay for a worker that keeps dying. Default 500 ms (then doubling). */
  backoffInitialMs?: number;
  /** Longest backoff delay. Default 30000 ms. */
  backoffMaxMs?: number;
  /** Exit the process when shutdown completes (SIGTERM/SIGINT). Default true. */
  exitOnShutdown?: boolean;
  /** On SIGTERM/SIGINT, how long the lifecycle says 'draining' (not ready) while the workers still serve, before they are told to drain. Default 0. */
  drainDelayMs?: number;
  /** Moved to 'serving' once every worker listens and to 'draining' on SIGTERM/SIGINT; its workersUp is kept current. */
  lifecycle?: Lifecycle;
  /** Extra environment for the workers (the CLI passes PORT when it chose a free port). */
  env?: Record<string, string>;
  /** Called when a supervised worker dies unexpectedly (before its replacement is started), for metrics. */
  onWorkerDied?: (pid: number | undefined, how: string) => void;
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

export { STABLE_MS } from './backoff.js';
/** Extra time after the drain deadline before the primary SIGKILLs a worker. */
export const DRAIN_GRACE_MS = 3_000;

interface Slot {
  index: number;
  /** The worker this slot is running (null while waiting for a backoff restart). */
  worker: Worker | null;
  /** When slot.worker started listening (0: not yet). */
  listeningAt: number;
  /** Unexpected deaths in a row, each within STABLE_MS of listening (or before listening). */
  failures: number;
  timer: NodeJS.Timeout | null;
  /** Under 'reuseport': the primary's duplicate of the slot's listening socket (never listened on here). */
  listener: SocketHandle | null;
}

interface Tracked {
  exited: Promise<void>;
  listening: boolean;
  /** The worker said its listening socket is closed ('sluice:closed'). */
  closed: boolean;
}

type ListenResult = { address: string; port: number } | { failed: string };
/** Emitted on a Worker by fork() when its 'sluice:listening' message arrives. */
const LISTENING = 'sluice:listening';

/**
 * Forks the workers, prints the start-up line once, supervises, handles SIGTERM/SIGINT/SIGHUP.
 * Resolves (with the address) once every worker listens and the start-up line is printed; rejects (after stopping
 * the workers) if one of them fails to start. The process then belongs to the supervisor: on
 * SIGTERM/SIGINT it drains the workers and exits 0.
 */
export async function runPrimary(options: PrimaryOptions): Promise<{ address: string; port: number } | undefined> {
  if (!cluster.isPrimary) throw new Error('runPrimary: call it in the cluster primary');
  if (!Number.isInteger(options.workers) || options.workers < 1) throw new RangeError(`runPrimary: workers must be an integer >= 1, got ${options.workers}`);
  const log = options.log;
  const n = options.workers;
  const deadlineMs = options.shutdownTimeoutMs;
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const backoffInitialMs = options.backoffInitialMs ?? 500;
  const backoffMaxMs = options.backoffMaxMs ?? 30_000;

  const asked = options.schedulingPolicy ?? envPolicy();
  const mode: ListenMode = asked === 'none' ? 'none'
    : asked === 'rr' ? 'rr'
    : (await reusePortAvailable()) ? 'reuseport' : 'rr';
  if (mode === 'rr') cluster.schedulingPolicy = cluster.SCHED_RR;
  else if (mode === 'none') cluster.schedulingPolicy = cluster.SCHED_NONE;
  cluster.setupPrimary({ silent: false }); // workers share our stdout/stderr
  const inherit = options.inheritListeners !== false;
  /** Under 'reuseport': the port every worker binds, once the first one has listened. */
  let sharedPort: number | null = null;

  const tracked = new Map<Worker, Tracked>();
  const lifecycle = options.lifecycle;
  const slots: Slot[] = Array.from({ length: n }, (_, index) => ({ index, worker: null, listeningAt: 0, failures: 0, timer: null, listener: null }));
  let started = false;
  let shuttingDown = false;

  /** Forks a worker for `slot` (it takes the slot over only when adopted). */
  function fork(slot: Slot): Worker {
    const inheriting = mode === 'reuseport' && inherit && slot.listener !== null;
    const env = mode === 'reuseport' ? { [ENV_REUSEPORT_PORT]: sharedPort === null ? '' : String(sharedPort), [ENV_INHERIT]: inheriting ? '1' : '0' } : {};
    const w = cluster.fork({ ...options.env, ...env });
    const t: Tracked = { exited: new Promise((resolve) => w.once('exit', () => resolve())), listening: false, closed: false };
    tracked.set(w, t);
    w.on('message', (m: unknown, handle: unknown) => {
      if (isWantListenerMessage(m)) {
        const reply: ListenerMessage = { cmd: 'sluice:listener' };
        w.send(reply, (slot.listener ?? undefined) as never, undefined, () => {});
      } else if (isListeningMessage(m) && !t.listening) {
        t.listening = true;
        countWorkersUp();
        if (isSocketHandle(handle)) keepListener(slot, handle, m.inherited === true);
        w.emit(LISTENING, { address: m.address, port: m.port });
      } else if (isClosedMessage(m)) {
        t.closed = true;
        // A worker SIGTERMed on its own: the port stays up, nothing to wait for.
        if (!shuttingDown) w.send(RELEASE, undefined, () => {});
        else releaseWhenAllClosed();
      }
    });
    w.once('exit', () => { tracked.delete(w); countWorkersUp(); releaseWhenAllClosed(); });
    // IPC errors (a send racing the worker's death) must not crash the primary.
    w.on('error', () => {});
    if (mode === 'rr') closeOrphanedHandoffs(w);
    return w;
  }

  function countWorkersUp(): void {
    if (!lifecycle) return;
    let up = 0;
    for (const t of tracked.values()) if (t.listening) up++;
    lifecycle.workersUp = up;
  }

  /** A worker listens on `handle`: the same socket as the slot's (inherited), or a new one that replaces it. */
  function keepListener(slot: Slot, handle: SocketHandle, inherited: boolean): void {
    if (inherited && slot.listener) { handle.close(); return; } // a second descriptor of the socket we hold
    dropListener(slot); // the old socket closes once its last worker has drained
    slot.listener = handle;
  }

  function dropListener(slot: Slot): void {
    if (!slot.listener) return;
    try { slot.listener.close(); } catch { /* already closed */ }
    slot.listener = null;
  }

  /** Resolves with the listening address, or with the reason the worker did not start. */
  function whenListening(w: Worker): Promise<ListenResult> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { cleanup(); w.process.kill('SIGKILL'); resolve({ failed: `did not listen within ${startTimeoutMs} ms` }); }, startTimeoutMs);
      const onListening = (addr: { address: string | null; port: number }) => { cleanup(); resolve({ address: addr.address ?? '127.0.0.1', port: addr.port }); };
      const onExit = (code: number | null, signal: string | null) => { cleanup(); resolve({ failed: describeExit(code, signal) }); };
      const cleanup = () => { clearTimeout(timer); w.off(LISTENING, onListening); w.off('exit', onExit); };
      w.once(LISTENING, onListening);
      w.once('exit', onExit);
    });
  }

  /**
   * Shutting down, the workers hold the connections that come while their sockets quiesce, and
   * serve them only once every listening socket on the port is closed: a client answered earlier
   * would connect again at once, maybe into a queue that is about to be reset.
   */
  let released = false;
  function releaseWhenAllClosed(): void {
    if (!shuttingDown || released) return;
    for (const t of tracked.values()) if (t.listening && !t.closed) return;
    released = true;
    for (const w of tracked.keys()) if (w.isConnected()) w.send(RELEASE, undefined, () => {});
  }

  /**
   * Tells a worker to drain and waits for it to exit, killing it DRAIN_GRACE_MS after the deadline.
   * `quiesce`: the port is going away (see DrainMessage).
   */
  function retire(w: Worker, ms: number, quiesce = false): Promise<void> {
    const t = tracked.get(w);
    if (!t || w.isDead()) return Promise.resolve();
    if (t.listening && w.isConnected()) {
      const msg: DrainMessage = { cmd: 'sluice:drain', deadlineMs: ms, quiesce };
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
      else w.once(LISTENING, () => { if (slot.worker === w) slot.listeningAt = Date.now(); });
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
    // A replacement started at once takes the slot's socket over (what queued meanwhile is served
    // late, not lost); a slot left empty for a backoff must leave the port's group, or the kernel
    // keeps queueing connections on it that nobody accepts.
    if (slot.failures > 1) dropListener(slot);
    options.onWorkerDied?.(w.process.pid, how);
    if (slot.failures === 1) {
      log(`sluice: worker ${w.process.pid} ${how}; starting a replacement`);
      replace(slot, w.process.pid);
      return;
    }
    const delay = backoffDelay(slot.failures, backoffInitialMs, backoffMaxMs);
    log(`sluice: worker ${w.process.pid} ${how}, the ${ordinal(slot.failures)} crash in a row of worker slot ${slot.index + 1} ` +
        `(each within ${STABLE_MS / 1000} s of starting); restarting it in ${formatSeconds(delay)}`);
    slot.timer = setTimeout(() => { slot.timer = null; replace(slot, w.process.pid); }, delay);
  }

  function replace(slot: Slot, oldPid: number | undefined): void {
    if (shuttingDown) return;
    const w = fork(slot);
    adopt(slot, w);
    void whenListening(w).then((r) => {
      if ('failed' in r) return; // onExit handles it (or a timeout killed it, which also ends in onExit)
      if (slot.worker === w) log(`sluice: worker ${w.process.pid} listening (replaces ${oldPid})`);
    });
  }

  const rollingRestart = rollingRestarter({
    slots, log, deadlineMs,
    started: () => started,
    shuttingDown: () => shuttingDown,
    fork, whenListening, retire,
    adopt: (slot, w) => { const old = adopt(slot, w); slot.failures = 0; return old; },
  });

  let forceRequested = false;
  let skipDelay: (() => void) | null = null;
  async function shutdown(signal: string): Promise<void> {
    if (skipDelay) { skipDelay(); return; } // a second signal during the drain delay: drain now
    if (shuttingDown) {
      if (forceRequested) return;
      forceRequested = true;
      log(`sluice: ${signal} again: killing the workers now`);
      for (const w of tracked.keys()) w.process.kill('SIGKILL');
      return;
    }
    shuttingDown = true;
    lifecycle?.to('draining');
    for (const slot of slots) if (slot.timer) { clearTimeout(slot.timer); slot.timer = null; }
    const drainDelayMs = options.drainDelayMs ?? 0;
    if (drainDelayMs > 0) {
      // Not ready while the workers serve as usual, so balancers stop sending before anyone drains.
      log(`sluice: ${signal}: not ready; serving ${formatSeconds(drainDelayMs)} more before draining`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, drainDelayMs);
        skipDelay = () => { clearTimeout(t); resolve(); };
      });
      skipDelay = null;
    }
    for (const slot of slots) {
      if (slot.timer) { clearTimeout(slot.timer); slot.timer = null; } // (a backoff armed during the delay)
      dropListener(slot); // the workers' own descriptors keep the sockets open while they drain
    }
    const all = [...tracked.keys()];
    log(`sluice: ${signal}: draining ${all.length} worker${all.length === 1 ? '' : 's'} (deadline ${formatSeconds(deadlineMs)})`);
    await Promise.all(all.map((w) => retire(w, deadlineMs, true)));
    // Workers forked after the snapshot (none should be: fork() is guarded) would be waited here.
    while (tracked.size > 0) await Promise.all([...tracked.keys()].map((w) => retire(w, deadlineMs, true)));
    lifecycle?.to('stopped');
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

  // Start-up. Every worker of `group` listening, or the first failure (without waiting for the others).
  const start = (group: Slot[]) => new Promise<ListenResult[]>((resolve) => {
    const all: ListenResult[] = [];
    let left = group.length;
    group.forEach((slot, i) => {
      const w = fork(slot);
      adopt(slot, w);
      void whenListening(w).then((r) => {
        all[i] = r;
        if ('failed' in r || --left === 0) resolve(all);
      });
    });
  });
  let results: ListenResult[];
  if (mode === 'reuseport') {
    // The first worker binds the port (maybe port 0: the kernel picks it); the others join it.
    results = await start(slots.slice(0, 1));
    const r0 = results[0]!;
    if (!('failed' in r0) && !shuttingDown && n > 1) {
      sharedPort = r0.port;
      results = results.concat(await start(slots.slice(1)));
    }
  } else {
    results = await start(slots);
  }
  if (shuttingDown) return; // a signal arrived during start-up: shutdown() drains and exits
  const failed = results.findIndex((r) => r !== undefined && 'failed' in r);
  if (failed >= 0) {
    shuttingDown = true;
    for (const slot of slots) dropListener(slot);
    await Promise.all([...tracked.keys()].map((w) => retire(w, deadlineMs)));
    removeSignalHandlers();
    const r = results[failed] as { failed: string };
    const w = slots[failed]!.worker!;
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
  log(`sluice listening on ${options.scheme ?? 'http'}://${host}:${port}/ (${n} worker${n === 1 ? '' : 's'}${mode === 'reuseport' ? ', reusePort' : ''}${note})`);
  lifecycle?.to('serving');
  return { address, port };
}

function envPolicy(): 'rr' | 'none' | undefined {
  const v = process.env.NODE_CLUSTER_SCHED_POLICY;
  return v === 'rr' || v === 'none' ? v : undefined;
}
