#!/usr/bin/env node
// The `sluice` command: parse flags, build the site (demo or a folder), then serve it in this
// process (src/cli/single.ts) or, with --workers N > 1, in N worker processes under a
// supervising primary (src/cli/supervisor.ts).
import cluster from 'node:cluster';
import { Lifecycle } from './server/lifecycle.js';
import { checkLogFiles, servingMetrics } from './ops/setup.js';
import { HELP, parseCli, UsageError } from './cli/args.js';
import { startOperatorAdmin, type OperatorAdmin } from './cli/admin.js';
import { fail } from './cli/fail.js';
import { version } from './cli/site.js';
import { runSupervisor } from './cli/supervisor.js';
import { runServing } from './cli/single.js';

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
      fail((err as Error).message);
    }
  }
  const shutdownTimeoutMs = config.serve.shutdownTimeoutMs ?? 10_000;
  const lifecycle = new Lifecycle();
  const isSupervisor = config.workers > 1 && cluster.isPrimary;
  // Request counters in every serving process when an admin listener will read them.
  const metrics = isSupervisor ? undefined : servingMetrics(config.admin !== undefined);
  let admin: OperatorAdmin = { aggregator: undefined, url: null };
  if (config.admin && (isSupervisor || !cluster.isWorker)) {
    admin = await startOperatorAdmin(config, isSupervisor ? config.workers : 1, lifecycle, metrics);
  }
  if (isSupervisor) {
    await runSupervisor(config, { lifecycle, shutdownTimeoutMs, aggregator: admin.aggregator, adminUrl: admin.url });
    return;
  }
  await runServing(config, { lifecycle, shutdownTimeoutMs, metrics, adminUrl: admin.url });
}

await main();
