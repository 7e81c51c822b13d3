// Load generators: wrk when installed (Debian package `wrk`), else autocannon (a devDependency).
// Both run as a child process pinned to CPU 0 and report the same LoadResult.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pinned, runToEnd, which, versionOf } from './common.js';

export interface LoadSpec {
  url: string;
  connections: number;
  durationS: number;
  /** Requests in flight per connection (1 = no pipelining). */
  pipeline: number;
  /** Extra request header fields. */
  headers?: Record<string, string>;
  /** Per-request time-out (s); wrk counts slower responses as time-outs. */
  timeoutS?: number;
  /** CPUs for the load generator (taskset -c), or null for no pinning. */
  cpus: string | null;
}

export interface LoadResult {
  rps: number;
  requests: number;
  durationS: number;
  bytesPerSec: number;
  /** Milliseconds. With pipelining, wrk measures a batch of `pipeline` requests. */
  p50: number;
  p99: number;
  max: number;
  /** Socket errors and time-outs. */
  errors: number;
  /** Requests without an answer within the per-request time-out. */
  timeouts: number;
  /** connect, read and write errors (resets, refusals). */
  socketErrors: number;
  /** Responses with a status outside 2xx/3xx. */
  non2xx: number;
}

export interface LoadGenerator {
  name: string;
  version: string;
  run(spec: LoadSpec): Promise<LoadResult>;
}

// wrk: the scripts report through done() as one JSON line, so nothing depends on wrk's text format.
// wrk's coordinated-omission correction (stats_correct) can add samples below the recorded minimum,
// which stats_percentile() never reaches: it then answers 0 (or too high a value). `share` finds the
// part of the samples it can see, and percentiles are taken within it, the hidden ones counted as
// the lowest (they are: each is smaller than a recorded latency).
const WRK_REPORT = `
local function visible_share(latency)
  local lo, hi = 0, 100
  for _ = 1, 40 do
    local mid = (lo + hi) / 2
    if latency:percentile(mid) > 0 then lo = mid else hi = mid end
  end
  return lo
end
local function pct(latency, p, share)
  local q = p - (100 - share)
  if q <= 0 then return latency.min end
  return latency:percentile(q)
end
done = function(summary, latency, requests)
  local e = summary.errors
  local share = visible_share(latency)
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, summary.bytes, pct(latency, 50, share), pct(latency, 99, share),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
`;

// Pipelining: every request() returns N requests back to back; wrk counts each response.
const WRK_PIPELINE = `
local batch = nil
init = function(args)
  local depth = tonumber(args[1] or "16")
  local r = {}
  for i = 1, depth do r[i] = wrk.format(nil, wrk.path) end
  batch = table.concat(r)
end
request = function()
  return batch
end
` + WRK_REPORT;

class Wrk implements LoadGenerator {
  readonly name = 'wrk';
  readonly version: string;
  private readonly reportLua: string;
  private readonly pipelineLua: string;

  constructor(private readonly bin: string, scriptDir: string) {
    this.version = (versionOf(bin, ['--version']) ?? 'wrk').replace(/\s*Copyright.*$/, '').trim();
    this.reportLua = path.join(scriptDir, 'report.lua');
    this.pipelineLua = path.join(scriptDir, 'pipeline.lua');
    fs.writeFileSync(this.reportLua, WRK_REPORT);
    fs.writeFileSync(this.pipelineLua, WRK_PIPELINE);
  }

  async run(spec: LoadSpec): Promise<LoadResult> {
    const args = ['-t1', `-c${spec.connections}`, `-d${spec.durationS}s`, `--timeout`, `${spec.timeoutS ?? 10}s`];
    for (const [k, v] of Object.entries(spec.headers ?? {})) args.push('-H', `${k}: ${v}`);
    args.push('-s', spec.pipeline > 1 ? this.pipelineLua : this.reportLua, spec.url);
    if (spec.pipeline > 1) args.push('--', String(spec.pipeline));
    const [cmd, argv] = pinned(spec.cpus, this.bin, args);
    const r = await runToEnd(cmd, argv, (spec.durationS + 20) * 1000);
    const m = /WRKJSON (\{.*\})/.exec(r.stdout);
    if (!m) throw new Error(`wrk gave no result (exit ${r.code}${r.timedOut ? ', timed out' : ''}):\n${r.stdout}${r.stderr}`);
    const j = JSON.parse(m[1]!) as Record<string, number>;
    const dur = j.duration_us! / 1e6;
    // With no latency sample (no request, or no pipelined batch, completed) wrk's percentiles are garbage.
    const ms = (us: number | undefined) => (j.requests! > 0 && us! > 0 ? us! / 1000 : NaN);
    return {
      rps: j.requests! / dur,
      requests: j.requests!,
      durationS: dur,
      bytesPerSec: j.bytes! / dur,
      p50: ms(j.p50_us),
      p99: ms(j.p99_us),
      max: ms(j.max_us),
      errors: j.connect! + j.read! + j.write! + j.timeout!,
      timeouts: j.timeout!,
      socketErrors: j.connect! + j.read! + j.write!,
      non2xx: j.status!,
    };
  }
}

class Autocannon implements LoadGenerator {
  readonly name = 'autocannon';
  readonly version: string;
  constructor(private readonly bin: string) {
    const require = createRequire(import.meta.url);
    let v = '?';
    try { v = (require('autocannon/package.json') as { version: string }).version; } catch { /* ignore */ }
    this.version = `autocannon ${v}`;
  }

  async run(spec: LoadSpec): Promise<LoadResult> {
    const args = [this.bin, '-j', '-n', '-c', String(spec.connections), '-d', String(spec.durationS),
      '-p', String(spec.pipeline), '-t', String(spec.timeoutS ?? 10)];
    for (const [k, v] of Object.entries(spec.headers ?? {})) args.push('-H', `${k}=${v}`);
    args.push(spec.url);
    const [cmd, argv] = pinned(spec.cpus, process.execPath, args);
    const r = await runToEnd(cmd, argv, (spec.durationS + 20) * 1000);
    const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
    if (!line) throw new Error(`autocannon gave no result (exit ${r.code}):\n${r.stdout}${r.stderr}`);
    const j = JSON.parse(line) as {
      duration: number; requests: { total: number }; throughput: { total: number };
      latency: { p50: number; p99: number; max: number }; errors: number; timeouts: number; non2xx: number;
    };
    const dur = j.duration;
    return {
      rps: j.requests.total / dur,
      requests: j.requests.total,
      durationS: dur,
      bytesPerSec: j.throughput.total / dur,
      p50: j.latency.p50,
      p99: j.latency.p99,
      max: j.latency.max,
      errors: j.errors + j.timeouts,
      timeouts: j.timeouts,
      socketErrors: j.errors,
      non2xx: j.non2xx,
    };
  }
}

/** wrk when on PATH (unless `prefer` is 'autocannon'), else autocannon. */
export function pickLoadGenerator(scriptDir: string, prefer?: string): LoadGenerator {
  const wrk = which('wrk');
  if (wrk && prefer !== 'autocannon') return new Wrk(wrk, scriptDir);
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('autocannon/package.json');
  return new Autocannon(path.join(path.dirname(pkg), 'autocannon.js'));
}
