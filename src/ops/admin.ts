// The admin listener: a separate port for probes and operators, off by default and bound to
// loopback unless told otherwise. It is served by the process that owns the lifecycle (the
// cluster primary, or the single process), so it answers while every worker is busy or dead.
import { Router } from '../app/router.js';
import type { Handler } from '../http/types.js';
import type { Lifecycle } from '../server/lifecycle.js';
import { serve, type Server } from '../server/server.js';

export interface AdminOptions {
  host: string;
  port: number;
  lifecycle: Lifecycle;
  /** More routes (metrics, status page), added to the same router. */
  extend?: (router: Router) => void;
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
  return serve(adminHandler(options.lifecycle, options.extend), {
    host: options.host,
    port: options.port,
    concurrency: 256,
    queue: 64,
    keepAliveTimeoutMs: 5_000,
    shutdownTimeoutMs: 1_000,
  });
}
