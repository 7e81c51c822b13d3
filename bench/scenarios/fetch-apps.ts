// Scenario 11: web-standard fetch apps. The same small Hono app (bench/apps/hono-bench.mjs) served
// by `sluice app.mjs --workers 1` and by @hono/node-server, the same routes on Fastify 5, and on
// sluice's own handler API (the reference for what Hono and the fetch adapter add). Three paths:
// GET / (text), GET /json, GET /user/:id (a param and a header). 50 keep-alive connections, servers
// pinned to one CPU and wrk to the other, rounds interleaving the servers.
//
// Besides req/s, each round records the server's CPU time per request (utime + stime of the server
// process from /proc, over the round, divided by the requests answered): on a shared machine the
// load generator and the server compete with other work, and CPU per request moves much less than
// req/s do.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { descendants, repoRoot } from '../common.js';
import type { LoadGenerator, LoadSpec } from '../load.js';
import { finish, type ScenarioResult, type ServerResult } from '../results.js';
import { startNodeServer, type RunningServer } from '../servers.js';

export interface FetchAppsOptions {
  loadgen: LoadGenerator;
  /** The sluice CLI (dist/src/cli.js). */
  cli: string;
  durationS: number;
  rounds: number;
  warmupS: number;
  serverCpu: string;
  loadCpu: string;
  host: string;
  progress: (msg: string) => void;
}

const APPS = path.join(repoRoot, 'bench', 'apps');

export const HONO_SLUICE = 'Hono on sluice';
export const HONO_NODE = 'Hono on @hono/node-server';
export const FASTIFY = 'Fastify 5';
export const SLUICE_API = 'sluice handler API';

/** The scenario's id in `npm run bench --scenarios`. */
export const FETCH_APPS_ID = '11';

const PATHS: { id: string; path: string; title: string }[] = [
  { id: `${FETCH_APPS_ID}a`, path: '/', title: 'fetch apps: GET / (text), keep-alive, 50 connections' },
  { id: `${FETCH_APPS_ID}b`, path: '/json', title: 'fetch apps: GET /json, keep-alive, 50 connections' },
  { id: `${FETCH_APPS_ID}c`, path: '/user/42', title: 'fetch apps: GET /user/:id (param + header), keep-alive, 50 connections' },
];

interface Def { name: string; script: string; args: string[] }

function defs(cli: string): Def[] {
  return [
    { name: HONO_SLUICE, script: cli, args: [path.join(APPS, 'hono-bench.mjs'), '--workers', '1'] },
    { name: HONO_NODE, script: path.join(APPS, 'hono-node-server.mjs'), args: [] },
    { name: FASTIFY, script: path.join(APPS, 'fastify.mjs'), args: [] },
    { name: SLUICE_API, script: cli, args: [path.join(APPS, 'sluice-routes.mjs'), '--workers', '1'] },
  ];
}

let clockTicks = 0;
/** CPU seconds (user + system) used so far by `pid` and its descendants. */
function cpuSeconds(pid: number): number {
  if (clockTicks === 0) {
    try { clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { clockTicks = 100; }
  }
  let ticks = 0;
  for (const p of [pid, ...descendants(pid)]) {
    try {
      // Fields after the command name (which may contain spaces): state is field 3, utime 14, stime 15.
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch { /* gone, or not Linux */ }
  }
  return ticks / clockTicks;
}

async function check(url: string): Promise<{ status: number; body: string; error?: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    return { status: 0, body: '', error: (err as Error).message };
  }
}

const fmt = (x: number) => x.toFixed(1);

export async function runFetchApps(o: FetchAppsOptions): Promise<ScenarioResult[]> {
  const servers = defs(o.cli);
  const results = PATHS.map((p): ScenarioResult => ({
    id: p.id, title: p.title, kind: 'rps',
    method: `${o.loadgen.name} -c50, GET ${p.path}, ${o.rounds} × ${o.durationS} s per server, servers on CPU ${o.serverCpu}, ` +
      `load on CPU ${o.loadCpu}; CPU per request from /proc (utime + stime ÷ requests)`,
    servers: servers.map((d): ServerResult => ({ server: d.name, status: 'ok', notes: [], rounds: [], summary: {} })),
    ratios: {}, notes: [],
  }));
  const running = new Map<string, RunningServer>();
  try {
    for (const d of servers) {
      try {
        running.set(d.name, await startNodeServer(d.name, d.script, [...d.args, '--host', o.host, '--port', '0'], o.serverCpu));
      } catch (err) {
        for (const r of results) {
          const s = r.servers.find((x) => x.server === d.name)!;
          s.status = 'failed';
          s.notes.push(`did not start: ${(err as Error).message.split('\n')[0]}`);
        }
      }
    }
    // Every server must answer every path with 200 and the same body as Hono on node:http.
    for (let i = 0; i < PATHS.length; i++) {
      const bodies = new Map<string, string>();
      for (const s of results[i]!.servers) {
        const srv = running.get(s.server);
        if (!srv || s.status !== 'ok') continue;
        const c = await check(srv.url + PATHS[i]!.path);
        if (c.status !== 200) {
          s.status = 'failed';
          s.notes.push(`GET ${PATHS[i]!.path} answered ${c.error ?? c.status}`);
        } else bodies.set(s.server, c.body);
      }
      const ref = bodies.get(HONO_NODE);
      for (const [name, body] of bodies) {
        if (ref !== undefined && body !== ref) results[i]!.servers.find((x) => x.server === name)!.notes.push(`body differs: ${JSON.stringify(body)}`);
      }
    }
    const spec = (url: string, durationS: number): LoadSpec => ({ url, durationS, connections: 50, pipeline: 1, cpus: o.loadCpu, timeoutS: 10 });
    const active = (i: number) => results[i]!.servers.filter((s) => s.status === 'ok' && running.has(s.server));
    if (o.warmupS > 0) {
      for (let i = 0; i < PATHS.length; i++) {
        for (const s of active(i)) {
          try { await o.loadgen.run(spec(running.get(s.server)!.url + PATHS[i]!.path, o.warmupS)); } catch { /* the rounds will tell */ }
        }
      }
    }
    for (let round = 0; round < o.rounds; round++) {
      for (let i = 0; i < PATHS.length; i++) {
        for (const s of active(i)) {
          const srv = running.get(s.server)!;
          o.progress(`[${PATHS[i]!.id}] round ${round + 1}/${o.rounds} ${s.server}`);
          const cpu0 = cpuSeconds(srv.pid);
          try {
            const r = await o.loadgen.run(spec(srv.url + PATHS[i]!.path, o.durationS));
            const cpu = cpuSeconds(srv.pid) - cpu0;
            s.rounds.push({
              rps: r.rps, p50: r.p50, p99: r.p99, errors: r.errors, non2xx: r.non2xx, mbPerSec: r.bytesPerSec / 1e6,
              requests: r.requests, cpuUsPerReq: r.requests > 0 ? (cpu * 1e6) / r.requests : NaN,
            });
          } catch (err) {
            s.notes.push(`round ${round + 1}: load generator failed: ${(err as Error).message.split('\n')[0]}`);
          }
          const crash = srv.crashed();
          if (crash) { s.status = 'failed'; s.notes.push(crash); }
        }
      }
    }
  } finally {
    await Promise.all([...running.values()].map((s) => s.stop()));
  }
  for (const res of results) {
    for (const s of res.servers) {
      finish(s);
      const c = s.summary.cpuUsPerReq;
      if (c) s.notes.push(`server CPU per request ${fmt(c.median)} µs (${fmt(c.min)}–${fmt(c.max)})`);
    }
    const med = (name: string, metric: string) => {
      const s = res.servers.find((x) => x.server === name);
      return s?.status === 'ok' ? s.summary[metric]?.median : undefined;
    };
    const hono = med(HONO_SLUICE, 'rps');
    for (const other of [HONO_NODE, FASTIFY, SLUICE_API]) {
      const v = med(other, 'rps');
      if (hono !== undefined && v !== undefined && v > 0) res.ratios[`Hono on sluice/${other}`] = hono / v;
    }
    const cpuHono = med(HONO_SLUICE, 'cpuUsPerReq');
    const cpuApi = med(SLUICE_API, 'cpuUsPerReq');
    if (cpuHono !== undefined && cpuApi !== undefined) {
      res.notes.push(`Hono + the fetch adapter cost ${fmt(cpuHono - cpuApi)} µs of server CPU per request over sluice's own handler API ` +
        `(${fmt(cpuHono)} vs ${fmt(cpuApi)} µs)`);
    }
    for (const other of [HONO_NODE, FASTIFY]) {
      const c = med(other, 'cpuUsPerReq');
      if (cpuHono !== undefined && c !== undefined && cpuHono > 0) res.notes.push(`CPU per request, ${other} ÷ Hono on sluice: ${(c / cpuHono).toFixed(2)}×`);
    }
  }
  return results;
}
