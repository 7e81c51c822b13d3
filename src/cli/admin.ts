// The operator's admin listener (--admin), started in the process that supervises or serves
// alone, before any worker: probes get an answer (503, starting) from the first moment.
import { startAdmin } from '../ops/admin.js';
import { operatorAggregator } from '../ops/setup.js';
import type { RequestMetrics } from '../ops/metrics/counters.js';
import type { Aggregator } from '../ops/metrics/aggregate.js';
import type { Lifecycle } from '../server/lifecycle.js';
import type { CliConfig } from './args.js';
import { fail } from './fail.js';
import { version } from './site.js';

export interface OperatorAdmin {
  aggregator: Aggregator | undefined;
  /** Printed after the listening line. */
  url: string | null;
}

export async function startOperatorAdmin(
  config: CliConfig, workers: number, lifecycle: Lifecycle, metrics: RequestMetrics | undefined,
): Promise<OperatorAdmin> {
  if (!config.admin) return { aggregator: undefined, url: null };
  try {
    const aggregator = operatorAggregator({ version: version(), workers, metrics });
    const url = (await startAdmin({ ...config.admin, lifecycle, metrics: aggregator })).url;
    return { aggregator, url };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return fail(`cannot listen on ${config.admin.host}:${config.admin.port} (--admin): ${e.code ?? e.message}`);
  }
}
