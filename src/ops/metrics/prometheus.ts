// The Prometheus text exposition of the aggregate, rendered by prom-client's Registry: each metric
// is a read-only view (a `get()` over the Aggregator), so a scrape reads numbers the workers sent
// in their last snapshot and nothing is counted through prom-client on the request path.
import { Registry } from 'prom-client';
import type { Aggregator } from './aggregate.js';
import { BOUNDS_MS, PROM_BUCKETS } from './histogram.js';
import type { Snapshot } from './counters.js';

type Labels = Record<string, string | number>;
interface Value { value: number; labels?: Labels; metricName?: string }
interface View { name: string; help: string; type: 'counter' | 'gauge' | 'histogram'; values: () => Value[] }

function perProcess(agg: Aggregator, pick: (s: Snapshot) => number): Value[] {
  const out: Value[] = [];
  if (agg.self) out.push({ labels: { worker: 'primary' }, value: pick(agg.self) });
  for (const [id, s] of agg.live) out.push({ labels: { worker: id }, value: pick(s) });
  return out;
}

const sum = (agg: Aggregator, pick: (s: Snapshot) => number) => { let n = 0; for (const s of agg.live.values()) n += pick(s); return n; };

function views(agg: Aggregator): View[] {
  const t = () => agg.totals();
  return [
    { name: 'sluice_http_requests_total', type: 'counter', help: 'HTTP responses sent (or aborted), by status code.',
      values: () => [...t().status].sort((a, b) => a[0] - b[0]).map(([code, value]) => ({ labels: { code }, value })) },
    { name: 'sluice_http_request_duration_seconds', type: 'histogram', help: 'Time from a parsed request head to its response handed to the socket.',
      values: () => {
        const tot = t();
        const out: Value[] = [];
        let cum = 0, j = 0;
        for (const i of PROM_BUCKETS) {
          for (; j <= i; j++) cum += tot.durations[j] ?? 0;
          out.push({ metricName: 'sluice_http_request_duration_seconds_bucket', labels: { le: BOUNDS_MS[i]! / 1000 }, value: cum });
        }
        let count = 0;
        for (const c of tot.durations) count += c;
        out.push({ metricName: 'sluice_http_request_duration_seconds_bucket', labels: { le: '+Inf' }, value: count });
        out.push({ metricName: 'sluice_http_request_duration_seconds_sum', value: tot.durationSumMs / 1000 });
        out.push({ metricName: 'sluice_http_request_duration_seconds_count', value: count });
        return out;
      } },
    { name: 'sluice_http_response_body_bytes_total', type: 'counter', help: 'Response body bytes sent.', values: () => [{ value: t().bodyBytes }] },
    { name: 'sluice_http_responses_aborted_total', type: 'counter', help: 'Exchanges whose connection closed before the response was fully written.', values: () => [{ value: t().aborted }] },
    { name: 'sluice_http_protocol_errors_total', type: 'counter', help: 'Error responses made by the server itself (malformed request, timeout, too large...), by status code.',
      values: () => [...t().protocol].sort((a, b) => a[0] - b[0]).map(([code, value]) => ({ labels: { code }, value })) },
    { name: 'sluice_connections_open', type: 'gauge', help: 'Connections being served now.', values: () => [{ value: sum(agg, (s) => s.open) }] },
    { name: 'sluice_connections_queued', type: 'gauge', help: 'Connections accepted and waiting for a concurrency slot.', values: () => [{ value: sum(agg, (s) => s.waiting) }] },
    { name: 'sluice_connections_accepted_total', type: 'counter', help: 'Connections accepted.', values: () => [{ value: t().accepted }] },
    { name: 'sluice_connections_refused_total', type: 'counter', help: 'Connections answered 503 and closed because the queue was full.', values: () => [{ value: t().refused }] },
    { name: 'sluice_workers', type: 'gauge', help: 'Serving processes reporting now.', values: () => [{ value: agg.live.size }] },
    { name: 'sluice_worker_restarts_total', type: 'counter', help: 'Workers that died unexpectedly and were replaced.', values: () => [{ value: agg.restarts }] },
    { name: 'sluice_process_cpu_seconds_total', type: 'counter', help: 'User + system CPU time, per process.',
      values: () => perProcess(agg, (s) => (s.cpuUserUs + s.cpuSystemUs) / 1e6) },
    { name: 'sluice_process_resident_memory_bytes', type: 'gauge', help: 'Resident set size, per process.', values: () => perProcess(agg, (s) => s.rssBytes) },
    { name: 'sluice_process_event_loop_delay_seconds', type: 'gauge', help: 'Event-loop delay over the last second, per process: p50, p99 and max.',
      values: () => [
        ...perProcess(agg, (s) => s.loopP50Ms / 1000).map((v) => ({ ...v, labels: { ...v.labels, quantile: '0.5' } })),
        ...perProcess(agg, (s) => s.loopP99Ms / 1000).map((v) => ({ ...v, labels: { ...v.labels, quantile: '0.99' } })),
        ...perProcess(agg, (s) => s.loopMaxMs / 1000).map((v) => ({ ...v, labels: { ...v.labels, quantile: '1' } })),
      ] },
    { name: 'sluice_uptime_seconds', type: 'gauge', help: 'Seconds since the server started.', values: () => [{ value: (Date.now() - agg.startedAt) / 1000 }] },
    { name: 'sluice_build_info', type: 'gauge', help: 'Always 1; the version in a label.', values: () => [{ labels: { version: agg.version }, value: 1 }] },
  ];
}

export function prometheusRegistry(agg: Aggregator): Registry {
  const registry = new Registry();
  for (const v of views(agg)) {
    registry.registerMetric({ name: v.name, get: () => ({ name: v.name, help: v.help, type: v.type, values: v.values(), aggregator: 'sum' }) } as never);
  }
  return registry;
}
