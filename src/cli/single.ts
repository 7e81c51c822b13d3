// A serving process: sluice alone (no --workers, or --workers 1), or one worker of a
// supervised cluster. Builds the site, listens, then either hands itself to the primary's
// supervision (worker) or drains on its own signals and prints the start-up lines.
import cluster from 'node:cluster';
import os from 'node:os';
import { runWorker } from '../cluster/worker.js';
import type { Handler } from '../http/types.js';
import type { Lifecycle } from '../server/lifecycle.js';
import { logOptions, wireServingProcess } from '../ops/setup.js';
import type { RequestMetrics } from '../ops/metrics/counters.js';
import { configureSpawn } from '../threads/spawn.js';
import { AppLoadError } from '../fetch/app-file.js';
import { describeTls, reloadOnSighup, tlsOption } from '../tls/program.js';
import type { CliConfig } from './args.js';
import { fail } from './fail.js';
import { siteHandler } from './site.js';
import { listen, withRedirect, type Served } from './listen.js';
import { drainOnSignals } from './drain.js';
import { adminLine, redirectNote } from './notices.js';
import { lanLines } from './port.js';

export interface ServingRun {
  lifecycle: Lifecycle;
  shutdownTimeoutMs: number;
  metrics: RequestMetrics | undefined;
  adminUrl: string | null;
}

export async function runServing(config: CliConfig, run: ServingRun): Promise<void> {
  const { lifecycle, shutdownTimeoutMs, metrics } = run;
  const tlsCli = config.tls;
  // Each worker process has its own thread pool: by default the cores are shared out among the
  // workers rather than every worker starting one thread per core.
  const workers = cluster.isWorker ? config.workers : 1;
  configureSpawn({ threads: config.threads ?? Math.max(1, Math.round(os.availableParallelism() / workers)) });
  let handler: Handler;
  try {
    handler = await siteHandler(config);
  } catch (err) {
    if (!(err instanceof AppLoadError)) throw err;
    return fail(err.message);
  }
  if (tlsCli !== null) config.serve.tls = await tlsOption(tlsCli);
  let server = await listen(config, handler, { ...config.serve, ...logOptions(config.logs), metrics });
  wireServingProcess(server, metrics);
  let redirect: Served | null = null;
  if (tlsCli?.redirectHttpPort !== undefined) ({ server, redirect } = await withRedirect(config, server, tlsCli.redirectHttpPort));
  if (cluster.isWorker) {
    runWorker(server, { shutdownTimeoutMs }); // no await before this: the primary may ask for a drain at once
    return;
  }
  drainOnSignals(server, lifecycle, config.drainDelayMs, shutdownTimeoutMs);
  // Only now say so: a supervisor that signals as soon as it reads the line must find the
  // handlers in place (before them, SIGTERM's default action kills the process mid-request).
  if (tlsCli !== null) {
    console.log(`sluice listening on ${server.url} (${describeTls(tlsCli, server.tls!.names, config.serve.http2 !== false)}${redirectNote(redirect?.port)})`);
    reloadOnSighup(server, (line) => console.log(line));
  } else {
    console.log(`sluice listening on ${server.url}`);
    // Without certificates a single process has nothing to read again; SIGHUP's default action
    // (exit) would take the server down for a signal that means "reload" everywhere else.
    process.on('SIGHUP', () => console.log('sluice: SIGHUP: nothing to reload in a single process (certificates reload with --tls-cert; --workers N replaces workers one by one)'));
  }
  for (const line of lanLines(server.host, server.port, tlsCli ? 'https' : 'http')) console.log(line);
  adminLine(run.adminUrl);
  lifecycle.to('serving');
}
