// `npm run bench`: sluice vs the node:http baseline vs nginx.
//
//   node dist/bench/run.js [--quick] [--smoke] [--scenarios 1,2,3] [--duration S] [--rounds N]
//                          [--out DIR] [--no-docs] [--no-nginx] [--loadgen wrk|autocannon] [--cli PATH]
//
// Scenarios (each bounded in time):
//   1  GET / keep-alive, 50 connections              req/s, p50, p99
//   2  the same, pipelined 16 deep
//   3  a new connection per request (Connection: close)
//   4  10,000 concurrent GET /sleep (1 s sleep)      time until all answered, errors, server peak RSS
//   5  static files, 4 KiB and 10 MiB (sluice DIR)   req/s (reported "not available yet" while sluice lacks it)
//   6  CPU: /work?ms=20, --workers 1 vs --workers 2  req/s and the ratio
//   7  plaintext at 256 … 16,384 connections, plain and pipelined (bench/scenarios/concurrency.ts)
//   8  --workers 2 vs nginx with 2 workers: keep-alive and a new connection per request (same file)
//   9  GET / keep-alive with the access log on, with metrics on, and both off   req/s and the ratios
//  10  10,000 idle keep-alive connections (bench/scenarios/idle-memory.ts)  server KiB per connection
//  11  fetch apps: Hono on sluice vs @hono/node-server vs Fastify 5 (and sluice's own API)   req/s, CPU/request
//  12  HTTPS GET / keep-alive, HTTP/1.1 (wrk), vs nginx with TLS   (bench/scenarios/tls.ts)
//  13  HTTP/2 GET /, h2load -c 50 -m 10, vs nginx http2; sluice's HTTP/1.1 with the same client
// Servers are pinned to CPU 1 and the load generator to CPU 0 (taskset), rounds interleave the servers,
// results are medians with min–max. Every child process is killed on exit, on error and on SIGINT.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import crypto from 'node:crypto';
import {
  installCleanup, makeTempDir, repoRoot, defaultCliPath, baselinePath, sleepClientPath, defaultSiteDir,
  which, versionOf, tasksetPath, pinned, runToEnd, procStatusKb, descendants, sleep,
} from './common.js';
import { pickLoadGenerator, type LoadGenerator, type LoadSpec } from './load.js';
import { startNodeServer, startNginx, type RunningServer } from './servers.js';
import { finish, headline, type BenchResults, type ScenarioResult, type ServerResult } from './results.js';
import { terminalReport, writeDocs } from './report.js';
import type { SleepClientResult } from './sleep-client.js';
import { runPlaintextFamily, runTwoWorkerFamily, type ConcurrencyContext } from './scenarios/concurrency.js';
import { OBSERVABILITY_ID, OBSERVABILITY_TITLE, observabilityRatios, observabilityServers } from './scenarios/observability.js';
import { IDLE_MEMORY_ID, runIdleMemoryScenario } from './scenarios/idle-memory.js';
import { FETCH_APPS_ID, runFetchApps } from './scenarios/fetch-apps.js';
import { HTTP2_ID, HTTPS_ID, runTlsScenarios, TLS_SCENARIOS } from './scenarios/tls.js';

const SERVER_CPU = '1';
const LOAD_CPU = '0';
const HOST = '127.0.0.1';
const ALL_SCENARIOS = ['1', '2', '3', '4', '5', '6', '7', '8', OBSERVABILITY_ID, IDLE_MEMORY_ID, FETCH_APPS_ID, ...TLS_SCENARIOS];

// ---------------------------------------------------------------------------------------------
// Flags

interface Flags {
  quick: boolean;
  smoke: boolean;
  scenarios: string[];
  durationS: number;
  rounds: number;
  warmupS: number;
  out: string | null;
  docs: boolean;
  nginx: boolean;
  loadgen: string | undefined;
  cli: string;
  site: string;
  sleepConnections: number;
}

const USAGE = `usage: node dist/bench/run.js [options]
  --quick            1 round, 2 s per measurement (< 2 min)
  --smoke            scenario 1 only, sluice and node:http, 1 round of 1 s, no docs (for the test)
  --scenarios LIST   e.g. 1,2,3 (default: all of ${ALL_SCENARIOS.join(',')})
  --duration S       seconds per measurement (default 5, --quick 2, --smoke 1)
  --rounds N         rounds (default 3, --quick and --smoke 1)
  --out DIR          where the JSON goes (default bench/results/)
  --no-docs          do not rewrite docs/BENCHMARKS.md and docs/bench-chart.svg
  --no-nginx         leave nginx out
  --loadgen NAME     wrk (default when installed) or autocannon
  --cli PATH         the sluice CLI to run (default dist/src/cli.js)
  --sleep-connections N   connections of scenarios 4 and 7 (default 10000)
`;

function parseFlags(argv: string[]): Flags {
  const f: Flags = {
    quick: false, smoke: false, scenarios: ALL_SCENARIOS, durationS: NaN, rounds: NaN, warmupS: NaN,
    out: null, docs: true, nginx: true, loadgen: undefined, cli: defaultCliPath,
    site: process.env.BENCH_SITE_DIR ? path.resolve(process.env.BENCH_SITE_DIR) : defaultSiteDir,
    sleepConnections: 10_000,
  };
  let scenariosGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--quick': f.quick = true; break;
      case '--smoke': f.smoke = true; break;
      case '--scenarios': {
        f.scenarios = val().split(',').map((s) => s.trim()).filter(Boolean);
        for (const s of f.scenarios) if (!ALL_SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}`);
        scenariosGiven = true;
        break;
      }
      case '--duration': f.durationS = Number(val()); if (!(f.durationS >= 1 && f.durationS <= 60)) throw new Error('--duration must be 1..60'); break;
      case '--rounds': f.rounds = Number(val()); if (!(Number.isInteger(f.rounds) && f.rounds >= 1 && f.rounds <= 9)) throw new Error('--rounds must be 1..9'); break;
      case '--out': f.out = path.resolve(val()); break;
      case '--no-docs': f.docs = false; break;
      case '--no-nginx': f.nginx = false; break;
      case '--loadgen': f.loadgen = val(); break;
      case '--cli': f.cli = path.resolve(val()); break;
      case '--sleep-connections': f.sleepConnections = Number(val()); break;
      case '-h': case '--help': process.stdout.write(USAGE); process.exit(0);
      // eslint-disable-next-line no-fallthrough
      default: throw new Error(`unknown flag ${a}`);
    }
  }
  if (f.smoke) {
    if (!scenariosGiven) f.scenarios = ['1'];
    f.docs = false;
    f.nginx = false;
  }
  if (Number.isNaN(f.durationS)) f.durationS = f.smoke ? 1 : f.quick ? 2 : 5;
  if (Number.isNaN(f.rounds)) f.rounds = f.smoke || f.quick ? 1 : 3;
  f.warmupS = f.smoke ? 0 : 1;
  // Docs describe the whole set: a partial run leaves them alone.
  if (f.scenarios.length !== ALL_SCENARIOS.length) f.docs = false;
  return f;
}

// ---------------------------------------------------------------------------------------------
// Probing a server once before loading it

interface Probe { status: number; type: string; length: number; sha1: string; error?: string }

function probe(url: string, timeoutMs = 15_000): Promise<Probe> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      const hash = crypto.createHash('sha1');
      let length = 0;
      res.on('data', (d: Buffer) => { hash.update(d); length += d.length; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), length, sha1: hash.digest('hex') }));
      res.on('error', (err) => resolve({ status: 0, type: '', length, sha1: '', error: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ status: 0, type: '', length: 0, sha1: '', error: err.message }));
  });
}

// ---------------------------------------------------------------------------------------------
// Servers

interface ServerDef {
  name: string;
  start(): Promise<RunningServer>;
  /** sluice features still being built: a 404/501 (or a failed start) means "not available yet". */
  optional?: boolean;
}

interface Ctx {
  flags: Flags;
  loadgen: LoadGenerator;
  nginxBin: string | null;
  cliExists: boolean;
  tmp: string;
  staticDir: string | null;
}

function sluiceDef(ctx: Ctx, name: string, args: string[], cpus: string | null, optional = false): ServerDef {
  return {
    name, optional,
    start: () => {
      if (!ctx.cliExists) return Promise.reject(new Error(`sluice CLI not found at ${ctx.flags.cli} (run npm run build)`));
      return startNodeServer(name, ctx.flags.cli, [...args, '--host', HOST, '--port', '0'], cpus);
    },
  };
}

function baselineDef(ctx: Ctx, args: string[], cpus: string | null): ServerDef {
  return {
    name: 'node:http',
    start: () => startNodeServer('node:http', baselinePath, [...args, '--host', HOST, '--port', '0'], cpus, { BENCH_SITE_DIR: ctx.flags.site }),
  };
}

function nginxDef(ctx: Ctx, root: string, index: string, notFoundPage: string | undefined): ServerDef[] {
  if (!ctx.flags.nginx || !ctx.nginxBin) return [];
  const bin = ctx.nginxBin;
  return [{ name: 'nginx', start: () => startNginx('nginx', bin, { root, index, notFoundPage }, SERVER_CPU, HOST) }];
}

function demoServers(ctx: Ctx, withNginx = true): ServerDef[] {
  return [
    sluiceDef(ctx, 'sluice', ['--workers', '1'], SERVER_CPU),
    baselineDef(ctx, [], SERVER_CPU),
    ...(withNginx ? nginxDef(ctx, ctx.flags.site, 'hello.html', '404.html') : []),
  ];
}

function emptyResult(name: string, status: ServerResult['status'], note?: string): ServerResult {
  return { server: name, status, notes: note ? [note] : [], rounds: [], summary: {} };
}

function firstLine(err: unknown): string {
  const m = (err as Error)?.message ?? String(err);
  const lines = m.split('\n').filter((l) => l.trim());
  // The interesting line of a crash is usually the Error line of the child's output.
  const errLine = lines.find((l) => /Error:|error:/.test(l) && !l.startsWith('sluice:'));
  return (lines[0] ?? '') + (errLine && errLine !== lines[0] ? ` — ${errLine.trim()}` : '');
}

function ratios(sc: ScenarioResult): void {
  const h = headline(sc.kind);
  const med = (name: string) => {
    const r = sc.servers.find((s) => s.server === name);
    return r && r.status === 'ok' ? r.summary[h.metric]?.median : undefined;
  };
  const put = (key: string, a?: number, b?: number) => {
    if (a !== undefined && b !== undefined && b > 0) sc.ratios[key] = a / b;
  };
  const sluice = med('sluice') ?? med('sluice --workers 1');
  put('sluice/node:http', sluice, med('node:http'));
  put('sluice/nginx', sluice, med('nginx'));
  put('workers 2/1', med('sluice --workers 2'), med('sluice --workers 1'));
  if (sc.kind === 'sleep') {
    const rss = (name: string) => sc.servers.find((s) => s.server === name && s.status === 'ok')?.summary.peakRssMb?.median;
    put('peak RSS sluice/node:http', rss('sluice'), rss('node:http'));
  }
}

// ---------------------------------------------------------------------------------------------
// req/s scenarios (1, 2, 3, 5, 6)

interface RpsScenario {
  id: string;
  title: string;
  path: string;
  connections: number;
  pipeline: number;
  headers?: Record<string, string>;
  loadCpus: string | null;
  expectStatus: number;
  /** Compare each body with node:http's (not for /work, whose page reports a measured time). */
  compareBody?: boolean;
  servers: ServerDef[];
}

function describe(sc: RpsScenario, ctx: Ctx): string {
  const pin = sc.loadCpus && tasksetPath ? `load on CPU ${sc.loadCpus}` : 'unpinned';
  const hdr = Object.entries(sc.headers ?? {}).map(([k, v]) => `, -H "${k}: ${v}"`).join('');
  return `${ctx.loadgen.name} -c${sc.connections}${sc.pipeline > 1 ? ` pipelined ${sc.pipeline} deep` : ''}${hdr}, GET ${sc.path}, ` +
    `${ctx.flags.rounds} × ${ctx.flags.durationS} s per server, ${pin}`;
}

/** Several scenarios that share the same servers (5a and 5b). */
async function runRpsGroup(ctx: Ctx, group: RpsScenario[]): Promise<ScenarioResult[]> {
  const defs = group[0]!.servers;
  const results: ScenarioResult[] = group.map((sc) => ({
    id: sc.id, title: sc.title, kind: 'rps', method: describe(sc, ctx), servers: [], ratios: {}, notes: [],
  }));
  const running = new Map<string, RunningServer>();
  try {
    // Start every server (idle ones cost nothing on the pinned core).
    for (const def of defs) {
      try {
        running.set(def.name, await def.start());
      } catch (err) {
        const status = def.optional ? 'not available yet' : 'failed';
        for (const r of results) r.servers.push(emptyResult(def.name, status, `did not start: ${firstLine(err)}`));
      }
    }
    for (let g = 0; g < group.length; g++) {
      const sc = group[g]!, res = results[g]!;
      // Probe: the expected status, and the same body and type as node:http.
      const active: { def: ServerDef; srv: RunningServer; result: ServerResult }[] = [];
      let reference: Probe | undefined;
      for (const def of defs) {
        const srv = running.get(def.name);
        if (!srv) continue;
        const p = await probe(srv.url + sc.path);
        const result = emptyResult(def.name, 'ok');
        if (p.status !== sc.expectStatus) {
          const why = p.error ? `error ${p.error}` : `status ${p.status}`;
          if (def.optional && (p.status === 404 || p.status === 501 || p.status === 0 || p.status === 500)) {
            result.status = 'not available yet';
            result.notes.push(`GET ${sc.path} answered ${why}`);
          } else {
            result.status = 'failed';
            result.notes.push(`GET ${sc.path} answered ${why}, expected ${sc.expectStatus}`);
          }
          res.servers.push(result);
          continue;
        }
        if (def.name === 'node:http') reference = p;
        active.push({ def, srv, result });
        res.servers.push(result);
        (result as ServerResult & { probe?: Probe }).probe = p;
      }
      if (reference) {
        for (const a of active) {
          const p = (a.result as ServerResult & { probe?: Probe }).probe!;
          if (a.def.name === 'node:http') continue;
          if (sc.compareBody !== false && p.sha1 !== reference.sha1) a.result.notes.push(`body differs from node:http's (${p.length} vs ${reference.length} bytes)`);
          if (p.type.toLowerCase().replace(/\s/g, '') !== reference.type.toLowerCase().replace(/\s/g, '')) {
            a.result.notes.push(`Content-Type "${p.type}" vs node:http's "${reference.type}"`);
          }
        }
      }
      for (const a of active) delete (a.result as ServerResult & { probe?: Probe }).probe;

      const spec = (url: string, durationS: number): LoadSpec => ({
        url, durationS, connections: sc.connections, pipeline: sc.pipeline, headers: sc.headers,
        cpus: sc.loadCpus, timeoutS: 10,
      });
      // Warm-up (JIT, caches), not recorded.
      if (ctx.flags.warmupS > 0) {
        for (const a of active) {
          try { await ctx.loadgen.run(spec(a.srv.url + sc.path, ctx.flags.warmupS)); } catch { /* the rounds will tell */ }
        }
      }
      // Rounds: A B C A B C …
      for (let round = 0; round < ctx.flags.rounds; round++) {
        for (const a of active) {
          if (a.result.status !== 'ok') continue;
          progress(`[${sc.id}] round ${round + 1}/${ctx.flags.rounds} ${a.def.name}`);
          try {
            const r = await ctx.loadgen.run(spec(a.srv.url + sc.path, ctx.flags.durationS));
            a.result.rounds.push({
              rps: r.rps, p50: r.p50, p99: r.p99, max: r.max, errors: r.errors, timeouts: r.timeouts,
              socketErrors: r.socketErrors, non2xx: r.non2xx, mbPerSec: r.bytesPerSec / 1e6, requests: r.requests,
            });
          } catch (err) {
            a.result.notes.push(`round ${round + 1}: load generator failed: ${firstLine(err)}`);
          }
          const crash = a.srv.crashed();
          if (crash) {
            a.result.status = 'failed';
            a.result.notes.push(`${crash} during round ${round + 1}; last output: ${a.srv.output().trim().split('\n').slice(-3).join(' | ')}`);
          }
        }
      }
      for (const a of active) {
        finish(a.result);
        const errs = a.result.rounds.reduce((x, r) => x + (r.errors ?? 0), 0);
        const bad = a.result.rounds.reduce((x, r) => x + (r.non2xx ?? 0), 0);
        if (errs) a.result.notes.push(`${errs} socket errors/time-outs under load`);
        if (bad) a.result.notes.push(`${bad} responses outside 2xx/3xx under load`);
      }
      const order = (r: ServerResult) => defs.findIndex((d) => d.name === r.server);
      res.servers.sort((a, b) => order(a) - order(b));
      ratios(res);
    }
  } finally {
    await Promise.all([...running.values()].map((s) => s.stop()));
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// Scenario 4: 10,000 concurrent GET /sleep

/** TcpExt ListenOverflows from /proc/net/netstat: connections dropped because an accept queue was full (system-wide). */
function listenOverflows(): number {
  try {
    const lines = fs.readFileSync('/proc/net/netstat', 'utf8').split('\n');
    for (let i = 0; i + 1 < lines.length; i++) {
      if (!lines[i]!.startsWith('TcpExt:') || !lines[i + 1]!.startsWith('TcpExt:')) continue;
      const names = lines[i]!.split(/\s+/), values = lines[i + 1]!.split(/\s+/);
      const k = names.indexOf('ListenOverflows');
      return k === -1 ? 0 : Number(values[k]);
    }
  } catch { /* not Linux */ }
  return 0;
}

function groupRssKb(pid: number, field: 'VmRSS' | 'VmHWM', kids: number[]): number {
  let total = 0;
  for (const p of [pid, ...kids]) total += procStatusKb(p, field) ?? 0;
  return total;
}

async function runSleepScenario(ctx: Ctx): Promise<ScenarioResult> {
  const n = ctx.flags.sleepConnections;
  const sleepMs = 1000;
  const res: ScenarioResult = {
    id: '4', title: `${n.toLocaleString('en-US')} concurrent GET /sleep (${sleepMs / 1000} s sleep)`, kind: 'sleep',
    method: `bench/sleep-client.ts (its own process, CPU 0): opens ${n} connections (≤ 1000 connects in progress), then sends ` +
      `one GET /sleep with Connection: close on every one at once; time from the first request written to the last response. ` +
      `Servers started with --sleep-ms ${sleepMs} and otherwise default settings (a new connection may wait up to ` +
      `sluice's --headers-timeout, 10 s, before its first request), a fresh server per round; ${ctx.flags.rounds} round(s); nginx has no /sleep.`,
    servers: [], ratios: {}, notes: [],
  };
  const defs: ServerDef[] = [
    sluiceDef(ctx, 'sluice', ['--workers', '1', '--sleep-ms', String(sleepMs)], SERVER_CPU),
    baselineDef(ctx, ['--sleep-ms', String(sleepMs)], SERVER_CPU),
  ];
  const results = new Map(defs.map((d) => [d.name, emptyResult(d.name, 'ok')]));
  for (let round = 0; round < ctx.flags.rounds; round++) {
    for (const def of defs) {
      const result = results.get(def.name)!;
      if (result.status !== 'ok') continue;
      progress(`[4] round ${round + 1}/${ctx.flags.rounds} ${def.name}`);
      let srv: RunningServer;
      try {
        srv = await def.start();
      } catch (err) {
        result.status = 'failed';
        result.notes.push(`did not start: ${firstLine(err)}`);
        continue;
      }
      try {
        const p = await probe(srv.url + '/');
        if (p.status !== 200) result.notes.push(`GET / answered ${p.status || p.error}`);
        const kids = descendants(srv.pid);
        await sleep(200);
        const idleKb = groupRssKb(srv.pid, 'VmRSS', kids);
        let peakKb = idleKb;
        const overflowsBefore = listenOverflows();
        const sampler = setInterval(() => { peakKb = Math.max(peakKb, groupRssKb(srv.pid, 'VmRSS', kids)); }, 50);
        const [cmd, argv] = pinned(LOAD_CPU, process.execPath, [sleepClientPath, '--host', srv.host, '--port', String(srv.port),
          '--path', '/sleep', '--n', String(n), '--parallel', '1000', '--timeout-ms', '30000']);
        const run = await runToEnd(cmd, argv, 45_000);
        clearInterval(sampler);
        const overflows = listenOverflows() - overflowsBefore;
        peakKb = Math.max(peakKb, groupRssKb(srv.pid, 'VmHWM', kids));
        const line = run.stdout.split('\n').find((l) => l.startsWith('{'));
        if (!line) throw new Error(`sleep client gave no result (exit ${run.code}): ${run.stderr.slice(-500)}`);
        const c = JSON.parse(line) as SleepClientResult;
        result.rounds.push({
          totalS: c.totalMs / 1000, answered: c.answered, errors: c.errorCount, peakRssMb: peakKb / 1024,
          idleRssMb: idleKb / 1024, p50: c.latencyMs.p50, p99: c.latencyMs.p99, maxLatency: c.latencyMs.max,
          connectAllS: c.connectAllMs / 1000, sendAllS: c.sendAllMs / 1000, peakOpen: c.peakOpen, listenOverflows: overflows,
        });
        if (c.peakOpen < n) result.notes.push(`round ${round + 1}: only ${c.peakOpen} connections were open at once`);
        if (c.errorCount) result.notes.push(`round ${round + 1}: ${c.errorCount} errors: ${JSON.stringify(c.errors)}`);
        const crash = srv.crashed();
        if (crash) {
          result.status = 'failed';
          result.notes.push(`${crash}; last output: ${srv.output().trim().split('\n').slice(-3).join(' | ')}`);
        }
      } catch (err) {
        result.notes.push(`round ${round + 1}: ${firstLine(err)}`);
      } finally {
        await srv.stop();
      }
    }
  }
  for (const r of results.values()) res.servers.push(finish(r));
  ratios(res);
  return res;
}

// ---------------------------------------------------------------------------------------------
// Scenario definitions

function staticFiles(ctx: Ctx): string {
  if (ctx.staticDir) return ctx.staticDir;
  const dir = path.join(ctx.tmp, 'static');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'index.html'), '<!DOCTYPE html>\n<title>static</title>\n<p>bench static root</p>\n');
  fs.writeFileSync(path.join(dir, 'file-4k.bin'), crypto.randomBytes(4096));
  fs.writeFileSync(path.join(dir, 'file-10m.bin'), crypto.randomBytes(10 * 1024 * 1024));
  // nginx's worker may run as another user: let everyone read.
  fs.chmodSync(ctx.tmp, 0o755);
  fs.chmodSync(dir, 0o755);
  ctx.staticDir = dir;
  return dir;
}

function scenarioGroups(ctx: Ctx): Array<() => Promise<ScenarioResult[]>> {
  const groups: Array<() => Promise<ScenarioResult[]>> = [];
  const want = (id: string) => ctx.flags.scenarios.includes(id);
  const smokeServers = () => demoServers(ctx, !ctx.flags.smoke);
  const base = { loadCpus: LOAD_CPU, expectStatus: 200 };
  if (want('1')) groups.push(() => runRpsGroup(ctx, [{ ...base, id: '1', title: 'GET / keep-alive, 50 connections', path: '/', connections: 50, pipeline: 1, servers: smokeServers() }]));
  if (want('2')) groups.push(() => runRpsGroup(ctx, [{ ...base, id: '2', title: 'GET / keep-alive, 50 connections, pipelined 16 deep', path: '/', connections: 50, pipeline: 16, servers: smokeServers() }]));
  if (want('3')) groups.push(() => runRpsGroup(ctx, [{ ...base, id: '3', title: 'GET /, a new connection per request', path: '/', connections: 50, pipeline: 1, headers: { Connection: 'close' }, servers: smokeServers() }]));
  if (want('4')) groups.push(async () => [await runSleepScenario(ctx)]);
  if (want('5')) {
    groups.push(() => {
      const dir = staticFiles(ctx);
      const servers: ServerDef[] = [
        sluiceDef(ctx, 'sluice', [dir, '--workers', '1'], SERVER_CPU, true),
        baselineDef(ctx, [dir], SERVER_CPU),
        ...nginxDef(ctx, dir, 'index.html', undefined),
      ];
      return runRpsGroup(ctx, [
        { ...base, id: '5a', title: 'static file 4 KiB, keep-alive, 50 connections', path: '/file-4k.bin', connections: 50, pipeline: 1, servers },
        { ...base, id: '5b', title: 'static file 10 MiB, keep-alive, 16 connections', path: '/file-10m.bin', connections: 16, pipeline: 1, servers },
      ]);
    });
  }
  if (want('6')) {
    groups.push(() => runRpsGroup(ctx, [{
      // --threads 1: one burn thread per process, so 1 worker = 1 core of work and 2 workers = 2 cores. With the
      // default (a thread per core) one worker already uses both cores, and since the burn loop counts
      // wall-clock time, threads beyond the cores make each request cost less CPU and inflate the figure.
      id: '6', title: 'CPU: GET /work?ms=20, 1 worker vs 2 workers (--threads 1)', path: '/work?ms=20', connections: 8, pipeline: 1,
      loadCpus: null, expectStatus: 200, compareBody: false,
      servers: [
        sluiceDef(ctx, 'sluice --workers 1', ['--workers', '1', '--threads', '1'], null, true),
        sluiceDef(ctx, 'sluice --workers 2', ['--workers', '2', '--threads', '1'], null, true),
        baselineDef(ctx, [], null),
      ],
    }]));
  }
  const cc = (): ConcurrencyContext => ({
    loadgen: ctx.loadgen, nginxBin: ctx.flags.nginx ? ctx.nginxBin : null, cli: ctx.flags.cli, site: ctx.flags.site,
    rounds: ctx.flags.rounds, durationS: ctx.flags.durationS, progress,
  });
  if (want('7')) groups.push(() => runPlaintextFamily(cc()));
  if (want('8')) groups.push(() => runTwoWorkerFamily(cc()));
  if (want(OBSERVABILITY_ID)) {
    const servers = observabilityServers(ctx.tmp).map((s) => sluiceDef(ctx, s.name, s.args, SERVER_CPU));
    groups.push(async () => (await runRpsGroup(ctx, [{ ...base, id: OBSERVABILITY_ID, title: OBSERVABILITY_TITLE, path: '/', connections: 50, pipeline: 1, servers }]))
      .map(observabilityRatios));
  }
  if (want(IDLE_MEMORY_ID)) {
    groups.push(async () => [await runIdleMemoryScenario({
      cli: ctx.flags.cli, rounds: ctx.flags.rounds, connections: ctx.flags.sleepConnections, host: HOST,
      serverCpu: SERVER_CPU, loadCpu: LOAD_CPU, progress,
    })]);
  }
  if (want(FETCH_APPS_ID)) {
    groups.push(() => runFetchApps({
      loadgen: ctx.loadgen, cli: ctx.flags.cli, durationS: ctx.flags.durationS, rounds: ctx.flags.rounds, warmupS: ctx.flags.warmupS,
      serverCpu: SERVER_CPU, loadCpu: LOAD_CPU, host: HOST, progress,
    }));
  }
  const tlsIds = TLS_SCENARIOS.filter(want);
  if (tlsIds.length > 0) {
    groups.push(() => runTlsScenarios({
      rounds: ctx.flags.rounds, durationS: ctx.flags.durationS, warmupS: ctx.flags.warmupS, cli: ctx.flags.cli, site: ctx.flags.site,
      tmp: ctx.tmp, loadgen: ctx.loadgen, nginxBin: ctx.flags.nginx ? ctx.nginxBin : null, serverCpu: SERVER_CPU, loadCpu: LOAD_CPU, progress,
    }, tlsIds));
  }
  return groups;
}

// ---------------------------------------------------------------------------------------------

let lastProgress = '';
function progress(msg: string): void {
  lastProgress = msg;
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${msg}`);
  else process.stderr.write(`${msg}\n`);
}

/** A rough upper bound of the run time, for the watchdog. */
function estimateS(f: Flags, nginx: boolean): number {
  const servers = nginx ? 3 : 2;
  const per = (srv: number) => srv * (f.rounds * f.durationS + f.warmupS + 1) + 3;
  let t = 5;
  for (const s of f.scenarios) {
    if (s === '1' || s === '2' || s === '3') t += per(servers);
    if (s === '4') t += 2 * f.rounds * 6;
    if (s === '5') t += 2 * per(servers) + 3;
    if (s === '6') t += per(3);
    if (s === '7') t += 8 * servers * (f.rounds * (Math.min(f.durationS, 3) + 1) + 1) + 10;
    if (s === '8') t += 2 * 3 * (f.rounds * Math.min(f.durationS, 3) + 1) + 10;
    if (s === OBSERVABILITY_ID) t += per(3);
    if (s === IDLE_MEMORY_ID) t += 2 * f.rounds * 15;
    if (s === FETCH_APPS_ID) t += 3 * per(4);
    if (s === HTTPS_ID) t += per(servers - 1) + 5;
    if (s === HTTP2_ID) t += per(servers) + 5;
  }
  return t;
}

async function main(): Promise<void> {
  let flags: Flags;
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  installCleanup();
  const started = Date.now();
  const loadStart = os.loadavg()[0]!;
  const tmp = makeTempDir('sluice-bench-');
  const nginxBin = which('nginx');
  const ctx: Ctx = {
    flags, tmp, nginxBin, staticDir: null,
    loadgen: pickLoadGenerator(tmp, flags.loadgen),
    cliExists: fs.existsSync(flags.cli),
  };
  const est = estimateS(flags, !!nginxBin && flags.nginx);
  const watchdog = setTimeout(() => {
    process.stderr.write(`\nbench: still running after ${Math.round(est * 2 + 60)} s (at: ${lastProgress}); stopping everything\n`);
    process.exit(3); // the exit handler kills the children
  }, (est * 2 + 60) * 1000);
  watchdog.unref();

  process.stderr.write(`bench: scenarios ${flags.scenarios.join(',')}, ${flags.rounds} round(s) × ${flags.durationS} s, ` +
    `load generator ${ctx.loadgen.version}, nginx ${nginxBin && flags.nginx ? 'yes' : 'no'}, taskset ${tasksetPath ? 'yes' : 'no'}; ~${Math.round(est)} s\n`);
  if (!nginxBin && flags.nginx) process.stderr.write('bench: nginx is not installed (apt-get install nginx-light): skipping it\n');
  if (loadStart > 1) process.stderr.write(`bench: load average ${loadStart.toFixed(2)}: other work is running, expect noisy figures\n`);
  if (!tasksetPath) process.stderr.write('bench: taskset is not installed (util-linux): server and load generator are not pinned\n');
  if (!ctx.cliExists) process.stderr.write(`bench: ${flags.cli} does not exist (npm run build?): sluice is reported as failed\n`);

  const scenarios: ScenarioResult[] = [];
  for (const g of scenarioGroups(ctx)) scenarios.push(...(await g()));
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');

  const cpus = os.cpus();
  const results: BenchResults = {
    version: 1,
    date: new Date().toISOString(),
    mode: flags.smoke ? 'smoke' : flags.quick ? 'quick' : flags.scenarios.length === ALL_SCENARIOS.length ? 'full' : 'custom',
    machine: {
      cpu: cpus[0]?.model.trim() ?? 'unknown',
      cores: cpus.length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      loadGenerator: ctx.loadgen.version,
      nginx: nginxBin && flags.nginx ? (versionOf(nginxBin, ['-v']) ?? 'nginx').replace(/^nginx version:\s*/, '') : null,
      taskset: !!tasksetPath,
      loadAvg: { start: loadStart, end: os.loadavg()[0]! },
    },
    options: { rounds: flags.rounds, durationS: flags.durationS, warmupS: flags.warmupS, scenarios: flags.scenarios },
    elapsedS: (Date.now() - started) / 1000,
    scenarios,
  };

  const outDir = flags.out ?? (flags.smoke
    ? fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-smoke-')) // kept: not a makeTempDir (those go at exit)
    : path.join(repoRoot, 'bench', 'results'));
  fs.mkdirSync(outDir, { recursive: true });
  const stamp = results.date.replace(/[:.]/g, '-');
  const json = JSON.stringify(results, null, 2) + '\n';
  fs.writeFileSync(path.join(outDir, `${stamp}.json`), json);
  fs.writeFileSync(path.join(outDir, 'latest.json'), json);

  process.stdout.write(terminalReport(results) + '\n');
  process.stdout.write(`results: ${path.join(outDir, `${stamp}.json`)} (and latest.json)\n`);
  if (flags.docs) {
    const d = writeDocs(results, path.join(repoRoot, 'docs'));
    process.stdout.write(`docs: ${path.relative(process.cwd(), d.md)}, ${path.relative(process.cwd(), d.svg)}\n`);
  }
  clearTimeout(watchdog);
}

void main().then(() => process.exit(0));
