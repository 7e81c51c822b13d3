// The admin listener: a separate port for probes and operators, off by default and bound to
// loopback unless told otherwise. It is served by the process that owns the lifecycle (the
// cluster primary, or the single process), so it answers while every worker is busy or dead.
// Given metrics it also serves /metrics, /status and /status.json (routes.ts).
import { readFileSync } from 'node:fs';
import { Router } from '../app/router.js';
import type { Handler } from '../http/types.js';
import type { Lifecycle } from '../server/lifecycle.js';
import { serve, type Server } from '../server/server.js';
import { Aggregator } from './metrics/aggregate.js';
import { RequestMetrics } from './metrics/counters.js';
import { LocalSource } from './cluster-metrics.js';
import { operatorRoutes } from './routes.js';

export interface AdminOptions {
  host: string;
  port: number;
  lifecycle: Lifecycle;
  /**
   * Adds /metrics, /status and /status.json: the RequestMetrics your serve() counts into (a
   * single process), or an Aggregator over several processes.
   */
  metrics?: RequestMetrics | Aggregator;
  /** More routes, added to the same router. */
  extend?: (router: Router) => void;
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

const TEXT = { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' };

export function adminHandler(lifecycle: Lifecycle, extend?: (router: Router) => void): Handler {
  const router = new Router()
    // Liveness: the process answers. Never 503 while it can answer at all.
    .get('/healthz', () => ({ headers: TEXT, body: 'ok\n' }))
    // Readiness: send traffic here. 503 from the first moment of a drain, and while no worker is up.
    .get('/readyz', () => (lifecycle.ready
      ? { headers: TEXT, body: 'ready\n' }
      : { status: 503, headers: { ...TEXT, 'Retry-After': '1' }, body: `not ready: ${lifecycle.notReadyReason}\n` }));
  extend?.(router);
  return router.handle;
}

export function startAdmin(options: AdminOptions): Promise<Server> {
  let extend = options.extend;
  if (options.metrics) {
    const agg = options.metrics instanceof RequestMetrics ? new Aggregator(new LocalSource(options.metrics), packageVersion(), 1) : options.metrics;
    agg.start();
    const operator = operatorRoutes(agg, options.lifecycle);
    const more = extend;
    extend = (router) => { operator(router); more?.(router); };
  }
  return serve(adminHandler(options.lifecycle, extend), {
    host: options.host,
    port: options.port,
    concurrency: 256,
    queue: 64,
    keepAliveTimeoutMs: 5_000,
    shutdownTimeoutMs: 1_000,
  });
}
