// The shape of bench/results/*.json (version 1).
import { median } from './common.js';

export type ServerStatus = 'ok' | 'not available yet' | 'skipped' | 'failed';

export interface Spread { median: number; min: number; max: number }

export interface ServerResult {
  server: string;
  status: ServerStatus;
  /** Why a server was skipped or failed, body/type mismatches, errors seen under load. */
  notes: string[];
  /** One entry per round: metric name -> value (see ScenarioResult.kind for the metric names). */
  rounds: Record<string, number>[];
  /** metric -> median and min–max over the rounds. */
  summary: Record<string, Spread>;
}

export interface ScenarioResult {
  /** '1', '2', '3', '4', '5a', '5b', '6'. */
  id: string;
  title: string;
  /**
   * 'rps': metrics rps, p50, p99 (ms), errors, non2xx, mbPerSec.
   * 'sleep': metrics totalS, answered, errors, peakRssMb, idleRssMb, p50, p99 (ms), connectAllS.
   * 'concurrency': rps, p50, p99, max (ms), timeouts, socketErrors, non2xx, listenDrops (bench/scenarios/concurrency.ts).
   * 'memory': metrics heldKibPerConn (heap + native), heapKibPerConn, nativeKibPerConn, rssKibPerConn, youngGenMb, rssBeforeMb, rssAfterMb, open.
   */
  kind: 'rps' | 'sleep' | 'concurrency' | 'memory';
  /** How the load was applied (connections, pipelining, headers, pinning). */
  method: string;
  servers: ServerResult[];
  /** 'sluice/node:http' etc.: ratio of the medians of the headline metric (req/s, or seconds for 'sleep'). */
  ratios: Record<string, number>;
  notes: string[];
}

export interface BenchResults {
  version: 1;
  date: string;
  mode: 'full' | 'quick' | 'smoke' | 'custom';
  machine: {
    cpu: string;
    cores: number;
    memoryGiB: number;
    /** process.version of the Node that ran the harness and the servers. */
    node: string;
    os: string;
    loadGenerator: string;
    nginx: string | null;
    taskset: boolean;
    /** 1-minute load average when the run started and ended (other work on the machine skews the figures). */
    loadAvg: { start: number; end: number };
  };
  options: { rounds: number; durationS: number; warmupS: number; scenarios: string[] };
  elapsedS: number;
  scenarios: ScenarioResult[];
}

/** Medians and min–max of every metric over the rounds. */
export function summarize(rounds: Record<string, number>[]): Record<string, Spread> {
  const out: Record<string, Spread> = {};
  const keys = new Set(rounds.flatMap((r) => Object.keys(r)));
  for (const k of keys) {
    const xs = rounds.map((r) => r[k]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
    if (xs.length === 0) continue;
    out[k] = { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
  }
  return out;
}

/** A server's result once its rounds are in: the summary, and 'failed' when no round succeeded. */
export function finish(r: ServerResult): ServerResult {
  r.summary = summarize(r.rounds);
  if (r.status === 'ok' && r.rounds.length === 0) r.status = 'failed';
  return r;
}

/** The metric a scenario is ranked by, and whether higher is better. */
export function headline(kind: ScenarioResult['kind']): { metric: string; label: string; higherIsBetter: boolean } {
  if (kind === 'memory') return { metric: 'heldKibPerConn', label: 'KiB held per idle connection (heap + native)', higherIsBetter: false };
  return kind === 'rps' || kind === 'concurrency'
    ? { metric: 'rps', label: 'req/s', higherIsBetter: true }
    : { metric: 'totalS', label: 's until all answered', higherIsBetter: false };
}
