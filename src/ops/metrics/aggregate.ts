// The primary's (or single process's) view over every serving process: the latest snapshot of
// each, the totals of processes that have exited (so counters never go backwards), and one sample
// a second for the status page. Snapshots are pulled once a second by a SnapshotSource.
import { addCounts, quantile, subCounts } from './histogram.js';
import type { Snapshot } from './counters.js';

/** Gives the latest snapshot of every live serving process, keyed by worker id ("0": the single process). */
export interface SnapshotSource {
  collect(): Promise<Map<string, Snapshot>>;
  /** Snapshots of processes that exited since the last call (their last word), to fold into the totals. */
  departed(): Snapshot[];
  /** The process that runs the admin listener, when it serves no requests itself (the primary). */
  self?: () => Snapshot;
}

/** Counters summed over processes. */
export interface Totals {
  status: Map<number, number>;
  protocol: Map<number, number>;
  durations: number[];
  durationSumMs: number;
  bodyBytes: number;
  aborted: number;
  accepted: number;
  refused: number;
}

export interface WorkerSample {
  id: string;
  pid: number;
  /** CPU over the last interval, in % of one core. */
  cpuPercent: number;
  rssBytes: number;
  loopP99Ms: number;
  open: number;
}

/** One second of the whole server, for the status page. */
export interface Sample {
  t: number;
  rps: number;
  p50Ms: number | null;
  p99Ms: number | null;
  open: number;
  waiting: number;
  /** Responses per second by class: 1xx..5xx. */
  classes: [number, number, number, number, number];
  workers: WorkerSample[];
}

export const HISTORY = 300;

function emptyTotals(): Totals {
  return { status: new Map(), protocol: new Map(), durations: [], durationSumMs: 0, bodyBytes: 0, aborted: 0, accepted: 0, refused: 0 };
}

function addInto(t: Totals, s: Snapshot): void {
  for (const [k, v] of s.status) t.status.set(k, (t.status.get(k) ?? 0) + v);
  for (const [k, v] of s.protocol) t.protocol.set(k, (t.protocol.get(k) ?? 0) + v);
  t.durations = addCounts(t.durations, s.durations);
  t.durationSumMs += s.durationSumMs;
  t.bodyBytes += s.bodyBytes;
  t.aborted += s.aborted;
  t.accepted += s.accepted;
  t.refused += s.refused;
}

function cloneTotals(t: Totals): Totals {
  return { ...t, status: new Map(t.status), protocol: new Map(t.protocol), durations: [...t.durations] };
}

export class Aggregator {
  readonly startedAt = Date.now();
  /** Latest snapshot per live process. */
  live = new Map<string, Snapshot>();
  /** The admin process itself, when it serves nothing (the cluster primary). */
  self: Snapshot | null = null;
  private retired = emptyTotals();
  restarts = 0;
  /** The latest unexpected worker deaths, newest last. */
  readonly recentRestarts: Array<{ t: number; pid: number | undefined; how: string }> = [];
  readonly history: Sample[] = [];
  private prevTotals: Totals | null = null;
  private prevLive = new Map<string, Snapshot>();
  private prevAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;

  constructor(private readonly source: SnapshotSource, readonly version: string, readonly workersConfigured: number) {}

  /** Collects once a second from now on (the timer does not keep the process alive). */
  start(intervalMs = 1000): void {
    if (this.timer) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  /** A worker died unexpectedly (the supervisor replaces it). */
  recordRestart(pid: number | undefined, how: string): void {
    this.restarts++;
    this.recentRestarts.push({ t: Date.now(), pid, how });
    if (this.recentRestarts.length > 20) this.recentRestarts.shift();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  totals(): Totals {
    const t = cloneTotals(this.retired);
    for (const s of this.live.values()) addInto(t, s);
    return t;
  }

  async tick(): Promise<void> {
    if (this.ticking) return; // a slow collection: skip this beat rather than pile up
    this.ticking = true;
    try {
      const live = await this.source.collect();
      for (const gone of this.source.departed()) addInto(this.retired, gone);
      this.live = live;
      this.self = this.source.self?.() ?? null;
      this.sample(Date.now());
    } finally {
      this.ticking = false;
    }
  }

  private sample(now: number): void {
    const totals = this.totals();
    const prev = this.prevTotals;
    const dt = prev ? (now - this.prevAt) / 1000 : 0;
    if (prev && dt > 0) {
      const count = (t: Totals) => { let n = 0; for (const v of t.status.values()) n += v; return n; };
      const classes: Sample['classes'] = [0, 0, 0, 0, 0];
      for (const [code, v] of totals.status) {
        const c = Math.floor(code / 100) - 1;
        if (c >= 0 && c < 5) classes[c] += Math.max(0, v - (prev.status.get(code) ?? 0)) / dt;
      }
      const recent = subCounts(totals.durations, prev.durations);
      let open = 0, waiting = 0;
      const workers: WorkerSample[] = [];
      for (const [id, s] of this.live) {
        open += s.open;
        waiting += s.waiting;
        workers.push(workerSample(id, s, this.prevLive.get(id), dt));
      }
      if (this.self) workers.unshift(workerSample('primary', this.self, this.prevLive.get('primary'), dt));
      this.history.push({
        t: now, rps: Math.max(0, count(totals) - count(prev)) / dt,
        p50Ms: quantile(recent, 0.5), p99Ms: quantile(recent, 0.99), open, waiting, classes, workers,
      });
      if (this.history.length > HISTORY) this.history.shift();
    }
    this.prevTotals = totals;
    this.prevLive = new Map(this.live);
    if (this.self) this.prevLive.set('primary', this.self);
    this.prevAt = now;
  }
}

function workerSample(id: string, s: Snapshot, prev: Snapshot | undefined, dt: number): WorkerSample {
  const cpuUs = s.cpuUserUs + s.cpuSystemUs;
  const prevUs = prev && prev.pid === s.pid ? prev.cpuUserUs + prev.cpuSystemUs : cpuUs;
  return { id, pid: s.pid, cpuPercent: Math.max(0, (cpuUs - prevUs) / 1e4 / dt), rssBytes: s.rssBytes, loopP99Ms: s.loopP99Ms, open: s.open };
}
