// Metrics and log reopening across `--workers N`, over the cluster IPC channel:
//
//   primary → worker  {cmd: 'sluice:metrics?', seq}    once a second (pull: every worker answers
//   worker → primary  {cmd: 'sluice:metrics', seq, snapshot}   the same beat, so rates line up)
//   primary → worker  {cmd: 'sluice:reopen-logs'}      on SIGUSR1 (logrotate): each worker owns
//                                                      its O_APPEND descriptors and reopens them
//
// Two messages per worker per second whatever the request rate; nothing per request.
import cluster, { type Worker } from 'node:cluster';
import type { RequestMetrics, Snapshot } from './metrics/counters.js';
import type { SnapshotSource } from './metrics/aggregate.js';
import { isDrainMessage } from '../cluster/primary.js';

interface PollMessage { cmd: 'sluice:metrics?'; seq: number }
interface ReplyMessage { cmd: 'sluice:metrics'; seq: number; snapshot: Snapshot }
interface ReopenMessage { cmd: 'sluice:reopen-logs' }

const isMsg = <T extends { cmd: string }>(m: unknown, cmd: T['cmd']): m is T =>
  typeof m === 'object' && m !== null && (m as { cmd?: unknown }).cmd === cmd;

/** How long the primary waits for every worker's answer before using what it has. */
const REPLY_WAIT_MS = 400;

/** While a worker drains, it reports this often unasked, so little of its last counts is lost when it exits. */
const DRAIN_REPORT_MS = 50;

/** In a worker: answer the primary's polls with this process's snapshot; reopen logs when told. */
export function serveWorkerMetrics(metrics: RequestMetrics | null, reopenLogs: () => void): void {
  const report = (seq: number) => {
    if (!metrics || !process.connected) return;
    const reply: ReplyMessage = { cmd: 'sluice:metrics', seq, snapshot: metrics.snapshot() };
    process.send?.(reply, undefined, undefined, () => {}); // the channel may be closing: fine
  };
  let draining = false;
  const drainReports = () => {
    if (draining || !metrics) return;
    draining = true;
    setInterval(() => report(-1), DRAIN_REPORT_MS).unref();
  };
  // The last word, as the process exits after its drain. An IPC write to an idle channel goes out
  // at once (libuv tries the write synchronously), so this usually arrives; the timer covers the rest.
  process.once('exit', () => report(-1));
  process.on('message', (m: unknown) => {
    if (isMsg<PollMessage>(m, 'sluice:metrics?')) report(m.seq);
    else if (isMsg<ReopenMessage>(m, 'sluice:reopen-logs')) reopenLogs();
    else if (isDrainMessage(m)) drainReports();
  });
  process.on('SIGTERM', drainReports);
  // Sent to the whole process group (or to a worker by hand): the same as the primary's order.
  process.on('SIGUSR1', reopenLogs);
}

/** In the primary: SIGUSR1 reopens the logs in every worker. */
export function forwardLogReopen(): void {
  process.on('SIGUSR1', () => {
    const msg: ReopenMessage = { cmd: 'sluice:reopen-logs' };
    for (const w of Object.values(cluster.workers ?? {})) {
      if (w && w.isConnected()) w.send(msg, undefined, () => {});
    }
  });
}

/** In the primary: polls every worker once per collect(); remembers the last word of workers that exit. */
export class ClusterSource implements SnapshotSource {
  private seq = 0;
  private readonly last = new Map<Worker, Snapshot>();
  private gone: Snapshot[] = [];
  private waiting: { seq: number; missing: Set<Worker>; done: () => void } | null = null;

  constructor(private readonly selfMetrics?: RequestMetrics) {
    cluster.on('message', (w, m: unknown) => {
      if (!isMsg<ReplyMessage>(m, 'sluice:metrics')) return;
      this.last.set(w, m.snapshot);
      const p = this.waiting;
      if (p && m.seq === p.seq) {
        p.missing.delete(w);
        if (p.missing.size === 0) p.done();
      }
    });
    cluster.on('exit', (w) => {
      const s = this.last.get(w);
      this.last.delete(w);
      if (s) this.gone.push(s);
      const p = this.waiting;
      if (p && p.missing.delete(w) && p.missing.size === 0) p.done();
    });
    if (selfMetrics) this.self = () => selfMetrics.snapshot();
  }

  self?: () => Snapshot;

  collect(): Promise<Map<string, Snapshot>> {
    const seq = ++this.seq;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && w.isConnected());
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.waiting = null;
        const out = new Map<string, Snapshot>();
        for (const [w, s] of this.last) out.set(String(w.id), s);
        resolve(out);
      };
      const timer = setTimeout(finish, REPLY_WAIT_MS);
      this.waiting = { seq, missing: new Set(workers), done: finish };
      const msg: PollMessage = { cmd: 'sluice:metrics?', seq };
      for (const w of workers) w.send(msg, undefined, () => {});
      if (workers.length === 0) finish();
    });
  }

  departed(): Snapshot[] {
    const g = this.gone;
    this.gone = [];
    return g;
  }
}

/** A single process: its own counters are the whole server. */
export class LocalSource implements SnapshotSource {
  constructor(private readonly metrics: RequestMetrics) {}
  collect(): Promise<Map<string, Snapshot>> {
    return Promise.resolve(new Map([['0', this.metrics.snapshot()]]));
  }
  departed(): Snapshot[] { return []; }
}
