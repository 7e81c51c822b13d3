// What one serving process counts: plain numbers and typed arrays bumped by the onResponse hook
// (no metric objects, no allocation on the request path), read once a second into a snapshot.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { ResponseRecord } from '../../http/connection.js';
import type { IncomingRequest } from '../../http/request.js';
import { headless } from '../log/formats.js';
import { bucketOf, BUCKETS } from './histogram.js';

/** What a server tells about its connections (Server implements it). */
export interface ConnectionStats {
  readonly connections: number;
  readonly waiting: number;
  readonly accepted: number;
  readonly rejected: number;
}

/** Cumulative counts since the process started, plus its gauges now. Plain JSON (it crosses IPC). */
export interface Snapshot {
  pid: number;
  /** Responses by status code: [status, count] pairs. */
  status: Array<[number, number]>;
  /** Engine-made error responses (malformed request, timeout, too large...) by status. */
  protocol: Array<[number, number]>;
  /** Duration bucket counts (histogram.ts). */
  durations: number[];
  durationSumMs: number;
  bodyBytes: number;
  aborted: number;
  open: number;
  waiting: number;
  accepted: number;
  refused: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  rssBytes: number;
  /** Event-loop delay since the last snapshot, ms. */
  loopP50Ms: number;
  loopP99Ms: number;
  loopMaxMs: number;
}

const LOOP_RESOLUTION_MS = 10;

export class RequestMetrics {
  private readonly status = new Float64Array(600);
  private readonly protocol = new Float64Array(600);
  private readonly durations = new Float64Array(BUCKETS);
  private durationSumMs = 0;
  private bodyBytes = 0;
  private aborted = 0;
  private connections: ConnectionStats | null = null;
  private loop: IntervalHistogram | null = null;

  /** The onResponse hook. */
  readonly onResponse = (req: IncomingRequest, record: ResponseRecord): void => {
    const ms = performance.now() - req._startedAt;
    const s = record.status;
    if (s >= 100 && s < 600) this.status[s]!++;
    // Answers the engine made instead of the handler: nothing parsed, or an override (413, 408...).
    if (headless(req) || req._override !== null) this.protocol[s < 600 ? s : 0]!++;
    this.durations[bucketOf(ms)]!++;
    this.durationSumMs += ms;
    this.bodyBytes += record.bodyBytes;
    if (record.aborted) this.aborted++;
  };

  /** Where connection counts come from (the server this process runs). */
  attach(server: ConnectionStats): void {
    this.connections = server;
  }

  /** Starts measuring the event loop's delay (call once; the monitor is cheap but not free). */
  watchEventLoop(): void {
    if (this.loop) return;
    this.loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    this.loop.enable();
  }

  snapshot(): Snapshot {
    const c = this.connections;
    const cpu = process.cpuUsage();
    const loop = this.loop;
    // The monitor records the time between its timer's runs, the resolution included: the delay is the excess.
    const ms = (ns: number) => (Number.isFinite(ns) ? Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS) : 0);
    const snap: Snapshot = {
      pid: process.pid,
      status: pairs(this.status),
      protocol: pairs(this.protocol),
      durations: Array.from(this.durations),
      durationSumMs: this.durationSumMs,
      bodyBytes: this.bodyBytes,
      aborted: this.aborted,
      open: c?.connections ?? 0,
      waiting: c?.waiting ?? 0,
      accepted: c?.accepted ?? 0,
      refused: c?.rejected ?? 0,
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      rssBytes: process.memoryUsage.rss(),
      loopP50Ms: loop && loop.count > 0 ? ms(loop.percentile(50)) : 0,
      loopP99Ms: loop && loop.count > 0 ? ms(loop.percentile(99)) : 0,
      loopMaxMs: loop && loop.count > 0 ? ms(loop.max) : 0,
    };
    loop?.reset();
    return snap;
  }
}

function pairs(a: Float64Array): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < a.length; i++) if (a[i]! > 0) out.push([i, a[i]!]);
  return out;
}
