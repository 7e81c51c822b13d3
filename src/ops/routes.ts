// The admin listener's operator routes: /metrics (Prometheus), /status (a page for a person) and
// /status.json (what the page polls), all read from one Aggregator.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Router } from '../app/router.js';
import type { Lifecycle } from '../server/lifecycle.js';
import type { Aggregator } from './metrics/aggregate.js';
import { prometheusRegistry } from './metrics/prometheus.js';
import { CLIENT_JS } from './status/client.js';
import { PAGE_HTML } from './status/page.js';

const require = createRequire(import.meta.url);
/** uPlot's files, from the installed package (nothing is fetched from the internet). */
const asset = (file: string) => readFileSync(require.resolve(`uplot/dist/${file}`));

const NO_STORE = { 'Cache-Control': 'no-store' };
// The page and its scripts come from this origin only; inline styles are uPlot's.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:";

export function operatorRoutes(agg: Aggregator, lifecycle: Lifecycle): (router: Router) => void {
  const registry = prometheusRegistry(agg);
  const uplotJs = asset('uPlot.iife.min.js');
  const uplotCss = asset('uPlot.min.css');
  const immutable = { 'Cache-Control': 'public, max-age=3600' };
  return (router) => router
    .get('/metrics', async () => ({
      headers: { 'Content-Type': registry.contentType, ...NO_STORE },
      body: await registry.metrics(),
    }))
    .get('/status', () => ({ headers: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': CSP, ...NO_STORE }, body: PAGE_HTML }))
    .get('/status.json', () => ({ headers: { 'Content-Type': 'application/json', ...NO_STORE }, body: JSON.stringify(statusJson(agg, lifecycle)) }))
    .get('/status/app.js', () => ({ headers: { 'Content-Type': 'text/javascript; charset=utf-8', ...NO_STORE }, body: CLIENT_JS }))
    .get('/status/uPlot.iife.min.js', () => ({ headers: { 'Content-Type': 'text/javascript; charset=utf-8', ...immutable }, body: uplotJs }))
    .get('/status/uPlot.min.css', () => ({ headers: { 'Content-Type': 'text/css; charset=utf-8', ...immutable }, body: uplotCss }));
}

export function statusJson(agg: Aggregator, lifecycle: Lifecycle) {
  const totals = agg.totals();
  let requests = 0;
  for (const v of totals.status.values()) requests += v;
  return {
    version: agg.version,
    phase: lifecycle.ready ? 'ready' : `not ready: ${lifecycle.notReadyReason}`,
    uptimeSeconds: (Date.now() - agg.startedAt) / 1000,
    workers: agg.live.size,
    workersConfigured: agg.workersConfigured,
    restarts: agg.restarts,
    recentRestarts: agg.recentRestarts,
    requests,
    codes: [...totals.status].sort((a, b) => a[0] - b[0]),
    history: agg.history,
  };
}
