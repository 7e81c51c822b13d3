#!/usr/bin/env node
// The `sluice` command: parse flags, build the site (demo or a folder), then serve it in this
// process or, with --workers N > 1, in N worker processes under a supervising primary.
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { demoSite } from './app/site.js';
import { serveStatic } from './app/static/index.js';
import { applySiteRules } from './app/config/index.js';
import { runPrimary } from './cluster/primary.js';
import { runWorker } from './cluster/worker.js';
import { workerListenOptions } from './cluster/listen-mode.js';
import type { Handler } from './http/types.js';
import { DEFAULT_PORT, serve } from './server/server.js';
import { Lifecycle } from './server/lifecycle.js';
import { startAdmin } from './ops/admin.js';
import { freePort, isPortFree, lanLines } from './cli/port.js';
import { checkLogFiles, forwardLogReopen, logOptions, operatorAggregator, servingMetrics, wireServingProcess } from './ops/setup.js';
import type { Aggregator } from './ops/metrics/aggregate.js';
import { HELP, parseCli, UsageError, type CliConfig } from './cli/args.js';
import { closeSpawnPool, configureSpawn } from './threads/spawn.js';
import { AppLoadError, filesFirst, loadApp } from './fetch/app-file.js';
import { TlsConfigError } from './tls/options.js';
import { describeTls, reloadOnSighup, shareWithWorkers, tlsOption } from './tls/program.js';
import { redirectToHttps } from './tls/redirect.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function siteHandler(config: CliConfig): Promise<Handler> {
  let inner: Handler;
  if (config.app !== undefined) {
    const app = await loadApp(config.app);
    inner = config.staticDir === undefined ? app : filesFirst(serveStatic(path.resolve(config.staticDir), config.static), app);
  } else {
    inner = config.dir === undefined ? demoSite({ sleepMs: config.sleepMs }) : serveStatic(path.resolve(config.dir), config.static);
  }
  return applySiteRules(inner, config.site);
}

const busyNotice = (port: number) => `sluice: port ${DEFAULT_PORT} is in use, so using port ${port} instead (--port chooses one)`;

async function main(): Promise<void> {
  let config;
  try {
    config = parseCli(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`sluice: ${err.message}\nTry 'sluice --help'.\n`);
    process.exit(2);
  }
  if (config === 'help') { process.stdout.write(HELP); return; }
  if (config === 'version') { process.stdout.write(`sluice ${version()}\n`); return; }

  if (!cluster.isWorker) {
    try {
      checkLogFiles(config.logs);
    } catch (err) {
      process.stderr.write(`sluice: ${(err as Error).message}\n`);
      process.exit(2);
    }
  }
  const shutdownTimeoutMs = config.serve.shutdownTimeoutMs ?? 10_000;
  const tlsCli = config.tls;
  const badTls = (err: unknown): never => {
    if (!(err instanceof TlsConfigError)) throw err;
    process.stderr.write(`sluice: ${err.message}\n`);
    process.exit(2);
  };
  const lifecycle = new Lifecycle();
  const isSupervisor = config.workers > 1 && cluster.isPrimary;
  let adminUrl: string | null = null;
  const adminLine = () => { if (adminUrl !== null) console.log(`sluice admin on ${adminUrl} (/healthz, /readyz, /metrics, /status)`); };
  // Request counters in every serving process when an admin listener will read them.
  const metrics = isSupervisor ? undefined : servingMetrics(config.admin !== undefined);
  let aggregator: Aggregator | undefined;
  if (config.admin && (isSupervisor || !cluster.isWorker)) {
    // Before the workers: probes get an answer (503, starting) from the first moment.
    try {
      aggregator = operatorAggregator({ version: version(), workers: isSupervisor ? config.workers : 1, metrics });
      adminUrl = (await startAdmin({ ...config.admin, lifecycle, metrics: aggregator })).url; // printed after the listening line
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      process.stderr.write(`sluice: cannot listen on ${config.admin.host}:${config.admin.port} (--admin): ${e.code ?? e.message}\n`);
      process.exit(2);
    }
  }
  if (isSupervisor) {
    const names = tlsCli === null ? [] : await shareWithWorkers(tlsCli).catch(badTls);
    const listeningNote = tlsCli === null ? undefined : describeTls(tlsCli, names, config.serve.http2 !== false) + redirectNote(tlsCli.redirectHttpPort);
    try {
      // The default port is taken: choose another before forking, so every worker gets the same one.
      let env: Record<string, string> | undefined;
      const host = config.serve.host ?? '127.0.0.1';
      if (!config.portExplicit && !(await isPortFree(host, DEFAULT_PORT))) {
        const port = await freePort(host);
        console.log(busyNotice(port));
        env = { PORT: String(port) };
      }
      forwardLogReopen(); // SIGUSR1: every worker reopens its log files
      const at = await runPrimary({
        workers: config.workers, shutdownTimeoutMs, drainDelayMs: config.drainDelayMs, lifecycle, log: (line) => console.log(line), env,
        scheme: tlsCli ? 'https' : 'http', listeningNote,
        onWorkerDied: aggregator ? (pid, how) => aggregator!.recordRestart(pid, how) : undefined,
      });
      if (at !== undefined) for (const line of lanLines(host, at.port, tlsCli ? 'https' : 'http')) console.log(line);
      adminLine();
    } catch (err) {
      process.stderr.write(`sluice: ${(err as Error).message}\n`);
      process.exit((err as { exitCode?: number }).exitCode ?? 1);
    }
    return;
  }

  // Each worker process has its own thread pool: by default the cores are shared out among the
  // workers rather than every worker starting one thread per core.
  const workers = cluster.isWorker ? config.workers : 1;
  configureSpawn({ threads: config.threads ?? Math.max(1, Math.round(os.availableParallelism() / workers)) });
  let handler: Handler;
  try {
    handler = await siteHandler(config);
  } catch (err) {
    if (!(err instanceof AppLoadError)) throw err;
    process.stderr.write(`sluice: ${err.message}\n`);
    process.exit(2);
  }
  if (tlsCli !== null) config.serve.tls = await tlsOption(tlsCli);
  const serveOptions = { ...config.serve, ...logOptions(config.logs), metrics };
  let server;
  try {
    try {
      // A cluster worker listens the way its primary chose (its own socket under reusePort).
      server = await serve(handler, cluster.isWorker ? { ...serveOptions, ...(await workerListenOptions()) } : serveOptions);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || config.portExplicit || cluster.isWorker) throw err;
      server = await serve(handler, { ...serveOptions, port: 0 });
      console.log(busyNotice(server.port));
    }
  } catch (err) {
    if (err instanceof TlsConfigError) badTls(err);
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`sluice: cannot listen on ${config.serve.host}:${config.serve.port}: ${e.code ?? e.message}\n`);
    process.exit(e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL' ? 2 : 1);
  }
  wireServingProcess(server, metrics);
  // --redirect-http: a second, plain listener of sluice's own, answering 308 to the HTTPS port.
  let redirect: Awaited<ReturnType<typeof serve>> | null = null;
  if (tlsCli?.redirectHttpPort !== undefined) {
    try {
      // Behind the same balancer as the HTTPS port: the same PROXY preamble and trusted proxies.
      const { proxyProtocol, trustProxy, forwardedHeader } = config.serve;
      redirect = await serve(redirectToHttps(server.port), { host: config.serve.host, port: tlsCli.redirectHttpPort, proxyProtocol, trustProxy, forwardedHeader });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      process.stderr.write(`sluice: cannot listen on ${config.serve.host}:${tlsCli.redirectHttpPort} (--redirect-http): ${e.code ?? e.message}\n`);
      process.exit(2);
    }
    const main = server;
    const both = redirect;
    server = Object.assign(Object.create(main) as typeof main, {
      close: (ms?: number) => Promise.all([main.close(ms), both.close(ms)]).then(() => {}),
    });
  }
  if (cluster.isWorker) {
    runWorker(server, { shutdownTimeoutMs }); // no await before this: the primary may ask for a drain at once
    return;
  }
  let stopping = false;
  let skipDelay: (() => void) | null = null;
  const stop = (signal: string) => {
    if (stopping) { skipDelay?.(); return; }
    stopping = true;
    lifecycle.to('draining');
    const drain = () => {
      skipDelay = null;
      // Worded like the primary's line with --workers (deadline in seconds).
      console.log(`sluice: ${signal}: draining ${server.connections} connection(s) (deadline ${shutdownTimeoutMs / 1000} s)`);
      void server.close(shutdownTimeoutMs).then(async () => {
        await closeSpawnPool();
        process.exit(0);
      });
    };
    if (config.drainDelayMs === 0) return drain();
    // Not ready, but serving as usual (accepting, keep-alive) while the balancers notice; a
    // second signal cuts the delay short.
    console.log(`sluice: ${signal}: not ready; serving ${config.drainDelayMs} ms more before draining`);
    const delayed = setTimeout(drain, config.drainDelayMs);
    skipDelay = () => { clearTimeout(delayed); drain(); };
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Only now say so: a supervisor that signals as soon as it reads the line must find the
  // handlers in place (before them, SIGTERM's default action kills the process mid-request).
  if (tlsCli !== null) {
    console.log(`sluice listening on ${server.url} (${describeTls(tlsCli, server.tls!.names, config.serve.http2 !== false)}${redirectNote(redirect?.port)})`);
    reloadOnSighup(server, (line) => console.log(line));
  } else {
    console.log(`sluice listening on ${server.url}`);
  }
  for (const line of lanLines(server.host, server.port, tlsCli ? 'https' : 'http')) console.log(line);
  adminLine();
  lifecycle.to('serving');
}

/** The --redirect-http part of the start-up line; a port, not a URL, since the host may be a wildcard. */
function redirectNote(port: number | undefined): string {
  return port === undefined ? '' : `; plain HTTP on port ${port} redirects here`;
}

await main();
