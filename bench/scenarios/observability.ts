// Scenario 7: what observability costs on the hot path. Keep-alive GET / on one worker, with
// nothing on, with the access log on (combined format, to a file), and with metrics on (the admin
// listener, which turns the request counters on). Targets: the log costs at most 10% of req/s
// (nginx loses about that to its buffered access log), the counters at most 3%.
import path from 'node:path';
import type { ScenarioResult, ServerResult } from '../results.js';

export const OBSERVABILITY_ID = '9';
export const OBSERVABILITY_TITLE = 'GET / keep-alive, 50 connections: access log and metrics on vs off';

/** The servers of the scenario, as (name, sluice CLI arguments). */
export function observabilityServers(tmpDir: string): Array<{ name: string; args: string[] }> {
  return [
    { name: 'sluice', args: ['--workers', '1'] }, // log and metrics off
    { name: 'sluice --access-log FILE', args: ['--workers', '1', '--access-log', path.join(tmpDir, 'bench-access.log')] },
    { name: 'sluice --admin (metrics)', args: ['--workers', '1', '--admin', '0'] },
  ];
}

/** Adds "log on/off" and "metrics on/off" ratios of the median req/s. */
export function observabilityRatios(sc: ScenarioResult): ScenarioResult {
  const [off, log, metrics] = observabilityServers('').map((s) => sc.servers.find((r) => r.server === s.name));
  const rps = (r: ServerResult | undefined) => (r && r.status === 'ok' ? r.summary.rps?.median : undefined);
  const base = rps(off);
  if (base) {
    const l = rps(log), m = rps(metrics);
    if (l !== undefined) sc.ratios['log on/off'] = l / base;
    if (m !== undefined) sc.ratios['metrics on/off'] = m / base;
  }
  sc.notes.push('targets: log on/off ≥ 0.90, metrics on/off ≥ 0.97');
  return sc;
}
