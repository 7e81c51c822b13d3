// `--workers N > 1` in the primary: choose the port before forking (so every worker gets the
// same one), then hand the process over to the supervisor (src/cluster/primary.ts).
import { runPrimary } from '../cluster/primary.js';
import { DEFAULT_PORT } from '../server/server.js';
import type { Lifecycle } from '../server/lifecycle.js';
import { forwardLogReopen } from '../ops/setup.js';
import type { Aggregator } from '../ops/metrics/aggregate.js';
import { describeTls, shareWithWorkers } from '../tls/program.js';
import type { CliConfig } from './args.js';
import { freePort, isPortFree, lanLines } from './port.js';
import { adminLine, busyNotice, redirectNote } from './notices.js';
import { badTls } from './tls-errors.js';

export interface SupervisorRun {
  lifecycle: Lifecycle;
  shutdownTimeoutMs: number;
  aggregator: Aggregator | undefined;
  adminUrl: string | null;
}

export async function runSupervisor(config: CliConfig, run: SupervisorRun): Promise<void> {
  const tlsCli = config.tls;
  const names = tlsCli === null ? [] : await shareWithWorkers(tlsCli).catch(badTls);
  const listeningNote = tlsCli === null ? undefined : describeTls(tlsCli, names, config.serve.http2 !== false) + redirectNote(tlsCli.redirectHttpPort);
  const { aggregator } = run;
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
      workers: config.workers, shutdownTimeoutMs: run.shutdownTimeoutMs, drainDelayMs: config.drainDelayMs,
      lifecycle: run.lifecycle, log: (line) => console.log(line), env,
      scheme: tlsCli ? 'https' : 'http', listeningNote,
      onWorkerDied: aggregator ? (pid, how) => aggregator.recordRestart(pid, how) : undefined,
    });
    if (at !== undefined) for (const line of lanLines(host, at.port, tlsCli ? 'https' : 'http')) console.log(line);
    adminLine(run.adminUrl);
  } catch (err) {
    process.stderr.write(`sluice: ${(err as Error).message}\n`);
    process.exit((err as { exitCode?: number }).exitCode ?? 1);
  }
}
