// Scenario families 7 and 8: many connections, and two workers.
//
//   7  TechEmpower-style plaintext (`Hello, World!`, text/plain, Server and Date headers, built per
//      request): 256, 1,024, 4,096 and 16,384 keep-alive connections, plain and pipelined 16 deep;
//      sluice (bench/apps/plaintext-sluice.ts), node:http (plaintext-node.ts) and nginx
//      (`return 200`), each one process pinned to CPU 1, wrk on CPU 0. Besides req/s and latency:
//      wrk's time-outs (no answer within 2 s) and socket errors, and the kernel's listen drops
//      (TcpExt ListenDrops + ListenOverflows, system-wide, before and after each measurement).
//   8  --workers 2 against nginx with 2 workers, GET / of the demo page, unpinned (the server's
//      processes and wrk share both cores): 8a keep-alive, 8b a new connection per request;
//      sluice with its default (reusePort where the running Node has it) and with round-robin.
//
// Descriptor limits: every child inherits the harness's; 16,384 connections need as many on both
// sides. A count above the soft limit is skipped with a note (raise it in the shell first:
// `ulimit -n $(ulimit -Hn)`); the limits in force are recorded in the method line.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { benchDistDir } from '../common.js';
import type { LoadGenerator } from '../load.js';
import { startNodeServer, startNginxWith, type RunningServer } from '../servers.js';
import { finish, type ScenarioResult, type ServerResult } from '../results.js';
import { writeNginxAppConfig } from '../apps/nginx-conf.js';

export interface ConcurrencyContext {
  loadgen: LoadGenerator;
  nginxBin: string | null;
  cli: string;
  site: string;
  rounds: number;
  durationS: number;
  progress: (msg: string) => void;
}

const HOST = '127.0.0.1';
const SERVER_CPU = '1';
const LOAD_CPU = '0';
export const CONNECTION_COUNTS = [256, 1024, 4096, 16384];
/**
 * Each measurement stays short: the family runs 8 × 3 servers × rounds of them. From 4,096
 * connections on, wrk spends the first seconds connecting (a burst beyond the accept queue is
 * retried by the clients' SYN timers, 1 s, then 3 s), so those get a little longer.
 */
const MAX_DURATION_S = 3;
const durationFor = (connections: number, asked: number) => Math.min(asked, MAX_DURATION_S) + (connections >= 4096 ? 2 : 0);

/**
 * Local ports free for new connections to one address: the ephemeral range minus the sockets in
 * TIME_WAIT (a run with a new connection per request leaves thousands for 60 s), or null.
 */
export function freeEphemeralPorts(): number | null {
  try {
    const [lo, hi] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    let timeWait = 0;
    for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
      try {
        for (const line of fs.readFileSync(f, 'latin1').split('\n')) if (line.split(/\s+/)[4] === '06') timeWait++;
      } catch { /* no IPv6 */ }
    }
    return hi! - lo! + 1 - timeWait;
  } catch {
    return null;
  }
}

/** TcpExt ListenDrops + ListenOverflows from /proc/net/netstat (0 where there is none). */
export function listenDrops(): number {
  try {
    const lines = fs.readFileSync('/proc/net/netstat', 'utf8').split('\n');
    for (let i = 0; i + 1 < lines.length; i++) {
      if (!lines[i]!.startsWith('TcpExt:') || !lines[i + 1]!.startsWith('TcpExt:')) continue;
      const names = lines[i]!.split(/\s+/), values = lines[i + 1]!.split(/\s+/);
      const v = (k: string) => { const j = names.indexOf(k); return j === -1 ? 0 : Number(values[j]); };
      return v('ListenDrops') + v('ListenOverflows');
    }
  } catch { /* not Linux */ }
  return 0;
}

/** The soft and hard descriptor limits children start with. */
export function fdLimits(): { soft: number; hard: number } {
  const q = (flag: string) => Number(spawnSync('sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).stdout.trim()) || Infinity;
  return { soft: q('-Sn'), hard: q('-Hn') };
}

interface Def { name: string; start: () => Promise<RunningServer> }

function empty(name: string): ServerResult {
  return { server: name, status: 'ok', notes: [], rounds: [], summary: {} };
}

/** Runs `specs` (one scenario each) over the same running servers, interleaving the servers. */
async function measure(
  ctx: ConcurrencyContext, defs: Def[], scenarios: ScenarioResult[],
  spec: Array<{ connections: number; pipeline: number; headers?: Record<string, string>; path: string; cpus: string | null }>,
): Promise<void> {
  const running = new Map<string, RunningServer>();
  try {
    for (const d of defs) {
      try { running.set(d.name, await d.start()); } catch (err) {
        for (const sc of scenarios) sc.servers.push({ ...empty(d.name), status: 'failed', notes: [`did not start: ${(err as Error).message.split('\n')[0]}`] });
      }
    }
    for (let i = 0; i < scenarios.length; i++) {
      const sc = scenarios[i]!, s = spec[i]!;
      const results = new Map<string, ServerResult>();
      for (const d of defs) if (running.has(d.name)) { const r = empty(d.name); results.set(d.name, r); sc.servers.push(r); }
      for (let round = 0; round < ctx.rounds; round++) {
        for (const [name, srv] of running) {
          const r = results.get(name)!;
          if (r.status !== 'ok') continue;
          ctx.progress(`[${sc.id}] round ${round + 1}/${ctx.rounds} ${name}`);
          const before = listenDrops();
          const free = freeEphemeralPorts();
          if (free !== null && free < s.connections) r.notes.push(`round ${round + 1}: only ${free} local ports free (the rest in TIME_WAIT) for ${s.connections} connections`);
          try {
            const l = await ctx.loadgen.run({
              url: srv.url + s.path, connections: s.connections, durationS: durationFor(s.connections, ctx.durationS), pipeline: s.pipeline,
              headers: s.headers, timeoutS: 2, cpus: s.cpus,
            });
            r.rounds.push({
              rps: l.rps, p50: l.p50, p99: l.p99, max: l.max, timeouts: l.timeouts, socketErrors: l.socketErrors,
              errors: l.errors, non2xx: l.non2xx, requests: l.requests, listenDrops: listenDrops() - before,
            });
          } catch (err) {
            r.notes.push(`round ${round + 1}: ${(err as Error).message.split('\n')[0]}`);
          }
          const crash = srv.crashed();
          if (crash) { r.status = 'failed'; r.notes.push(crash); }
          // Let the connections of this measurement close before the next one counts drops.
          await new Promise((res) => setTimeout(res, 300));
        }
      }
      for (const r of results.values()) finish(r);
      const med = (name: string) => results.get(name)?.summary.rps?.median;
      const nginx = med('nginx') ?? med('nginx (2 workers)');
      for (const name of results.keys()) {
        const m = med(name);
        if (m !== undefined && nginx && !name.startsWith('nginx')) sc.ratios[`${name}/nginx`] = m / nginx;
      }
    }
  } finally {
    await Promise.all([...running.values()].map((s) => s.stop()));
  }
}

function scenario(id: string, title: string, method: string): ScenarioResult {
  return { id, title, kind: 'concurrency', method, servers: [], ratios: {}, notes: [] };
}

/** Family 7: the plaintext test at 256 … 16,384 connections, plain and pipelined. */
export async function runPlaintextFamily(ctx: ConcurrencyContext): Promise<ScenarioResult[]> {
  const limits = fdLimits();
  const apps = path.join(benchDistDir, 'apps');
  const defs: Def[] = [
    { name: 'sluice', start: () => startNodeServer('sluice', path.join(apps, 'plaintext-sluice.js'), ['--port', '0'], SERVER_CPU) },
    { name: 'node:http', start: () => startNodeServer('node:http', path.join(apps, 'plaintext-node.js'), ['--port', '0'], SERVER_CPU) },
  ];
  if (ctx.nginxBin) {
    const bin = ctx.nginxBin;
    defs.push({ name: 'nginx', start: () => startNginxWith('nginx', bin, (dir, port) => writeNginxAppConfig({ dir, host: HOST, port, workers: 1, app: 'plaintext' }), SERVER_CPU, HOST) });
  }
  const scenarios: ScenarioResult[] = [];
  const specs: Parameters<typeof measure>[3] = [];
  const skipped: string[] = [];
  let letter = 'a'.charCodeAt(0);
  for (const pipeline of [1, 16]) {
    for (const connections of CONNECTION_COUNTS) {
      const id = `7${String.fromCharCode(letter++)}`;
      if (connections + 64 > limits.soft) { skipped.push(`${id} (${connections} connections)`); continue; }
      scenarios.push(scenario(id, `plaintext, ${connections.toLocaleString('en-US')} connections${pipeline > 1 ? `, pipelined ${pipeline} deep` : ''}`,
        `${ctx.loadgen.name} -t1 -c${connections}${pipeline > 1 ? ` pipelined ${pipeline}` : ''} --timeout 2s, ` +
        `${ctx.rounds} × ${durationFor(connections, ctx.durationS)} s per server, server on CPU ${SERVER_CPU}, load on CPU ${LOAD_CPU}; ` +
        `descriptor limits soft ${limits.soft}, hard ${limits.hard}; listen drops are system-wide`));
      specs.push({ connections, pipeline, path: '/plaintext', cpus: LOAD_CPU });
    }
  }
  if (skipped.length) ctx.progress(`[7] skipped for the descriptor limit (${limits.soft}): ${skipped.join(', ')}`);
  await measure(ctx, defs, scenarios, specs);
  if (skipped.length && scenarios[0]) scenarios[0].notes.push(`skipped (descriptor limit ${limits.soft}): ${skipped.join(', ')}`);
  return scenarios;
}

/** Family 8: two workers each, unpinned, keep-alive and a new connection per request. */
export async function runTwoWorkerFamily(ctx: ConcurrencyContext): Promise<ScenarioResult[]> {
  const defs: Def[] = [
    { name: 'sluice --workers 2', start: () => startNodeServer('sluice --workers 2', ctx.cli, ['--workers', '2', '--port', '0'], null) },
    { name: 'sluice --workers 2 (round-robin)', start: () => startNodeServer('sluice --workers 2 (round-robin)', ctx.cli, ['--workers', '2', '--port', '0'], null, { NODE_CLUSTER_SCHED_POLICY: 'rr' }) },
  ];
  if (ctx.nginxBin) {
    const bin = ctx.nginxBin;
    const app = { root: path.resolve(ctx.site), index: 'hello.html' };
    defs.push({ name: 'nginx (2 workers)', start: () => startNginxWith('nginx (2 workers)', bin, (dir, port) => writeNginxAppConfig({ dir, host: HOST, port, workers: 2, app }), null, HOST) });
  }
  const how = (extra: string) => `${ctx.loadgen.name} -t1 -c50${extra}, GET /, ${ctx.rounds} × ${durationFor(50, ctx.durationS)} s per server, ` +
    `unpinned (servers and wrk share the cores); nginx with reuseport; Node ${process.version}`;
  const scenarios = [
    scenario('8a', 'GET / keep-alive, 50 connections, 2 workers', how('')),
    scenario('8b', 'GET /, a new connection per request, 2 workers', how(', -H "Connection: close"')),
  ];
  await measure(ctx, defs, scenarios, [
    { connections: 50, pipeline: 1, path: '/', cpus: null },
    { connections: 50, pipeline: 1, path: '/', headers: { Connection: 'close' }, cpus: null },
  ]);
  return scenarios;
}
