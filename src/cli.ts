#!/usr/bin/env node
// The `sluice` command: parse flags, build the site (demo or a folder), then serve it in this
// process or, with --workers N > 1, in N worker processes under a supervising primary.
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { demoSite } from './app/site.js';
import { serveStatic } from './app/static/index.js';
import { runPrimary } from './cluster/primary.js';
import { runWorker } from './cluster/worker.js';
import type { Handler } from './http/types.js';
import { serve } from './server/server.js';
import { HELP, parseCli, UsageError, type CliConfig } from './cli/args.js';
import { closeSpawnPool, configureSpawn } from './threads/spawn.js';
import { TlsConfigError } from './tls/options.js';
import { describeTls, reloadOnSighup, shareWithWorkers, tlsOption } from './tls/program.js';
import { redirectToHttps } from './tls/redirect.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function siteHandler(config: CliConfig): Handler {
  if (config.dir === undefined) return demoSite({ sleepMs: config.sleepMs });
  return serveStatic(path.resolve(config.dir), config.static);
}

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

  const shutdownTimeoutMs = config.serve.shutdownTimeoutMs ?? 10_000;
  const tlsCli = config.tls;
  const badTls = (err: unknown): never => {
    if (!(err instanceof TlsConfigError)) throw err;
    process.stderr.write(`sluice: ${err.message}\n`);
    process.exit(2);
  };
  if (config.workers > 1 && cluster.isPrimary) {
    const names = tlsCli === null ? [] : await shareWithWorkers(tlsCli).catch(badTls);
    const listeningNote = tlsCli === null ? undefined : describeTls(tlsCli, names, config.serve.http2 !== false);
    try {
      await runPrimary({ workers: config.workers, shutdownTimeoutMs, log: (line) => console.log(line), scheme: tlsCli ? 'https' : 'http', listeningNote });
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
  const handler = siteHandler(config);
  let server;
  if (tlsCli !== null) config.serve.tls = await tlsOption(tlsCli);
  try {
    server = await serve(handler, config.serve);
  } catch (err) {
    if (err instanceof TlsConfigError) badTls(err);
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`sluice: cannot listen on ${config.serve.host}:${config.serve.port}: ${e.code ?? e.message}\n`);
    process.exit(e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL' ? 2 : 1);
  }
  // --redirect-http: a second, plain listener of sluice's own, answering 308 to the HTTPS port.
  let redirect: Awaited<ReturnType<typeof serve>> | null = null;
  if (tlsCli?.redirectHttpPort !== undefined) {
    try {
      redirect = await serve(redirectToHttps(server.port), { host: config.serve.host, port: tlsCli.redirectHttpPort });
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
  if (tlsCli !== null) {
    const redirectNote = redirect ? `; ${redirect.url} redirects to it` : '';
    console.log(`sluice listening on ${server.url} (${describeTls(tlsCli, server.tls!.names, config.serve.http2 !== false)}${redirectNote})`);
    reloadOnSighup(server, (line) => console.log(line));
  } else {
    console.log(`sluice listening on ${server.url}`);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`sluice: ${signal}: draining ${server.connections} connection(s), up to ${shutdownTimeoutMs} ms`);
    void server.close(shutdownTimeoutMs).then(async () => {
      await closeSpawnPool();
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

await main();
