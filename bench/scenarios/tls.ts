// HTTPS scenarios: GET / on the demo site over TLS, sluice vs nginx with the same page and the
// same certificate (EC P-256, made with openssl for the run).
//   12 HTTP/1.1 over TLS, keep-alive, 50 connections (wrk)
//   13 HTTP/2, h2load -c 50 -m 10 (50 connections, 10 streams each); sluice is also measured with
//      `h2load --h1` (the same client over HTTP/1.1, 10 requests pipelined per connection), which
//      shows what node:http2 costs against sluice's own HTTP/1.1 engine on the same socket layer.
// Servers are pinned to CPU 1 and the load to CPU 0, rounds interleave the servers, as in run.ts.
import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { freePort, makeTempDir, pinned, removeTempDir, runToEnd, spawnTracked, stopProcess, waitForPort, which } from '../common.js';
import type { LoadGenerator } from '../load.js';
import { writeNginxConfig } from '../nginx.js';
import { finish, type ScenarioResult, type ServerResult } from '../results.js';
import { INTERMEDIATE_CIPHERS } from '../../src/tls/options.js';

export const HTTPS_ID = '12';
export const HTTP2_ID = '13';
export const TLS_SCENARIOS = [HTTPS_ID, HTTP2_ID];

export interface TlsBenchContext {
  rounds: number;
  durationS: number;
  warmupS: number;
  cli: string;
  site: string;
  tmp: string;
  loadgen: LoadGenerator;
  nginxBin: string | null;
  serverCpu: string;
  loadCpu: string;
  progress(msg: string): void;
}

interface Running { name: string; port: number; proc: ChildProcess; stop(): Promise<void> }

const HOST = '127.0.0.1';
const CONNECTIONS = 50;
const STREAMS = 10;

function makeCert(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, 'bench.crt');
  const key = path.join(dir, 'bench.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'pipe', timeout: 20_000 });
  fs.chmodSync(key, 0o644); // nginx's worker may run as another user
  return { cert, key };
}

async function startSluice(ctx: TlsBenchContext, pem: { cert: string; key: string }): Promise<Running> {
  const [cmd, argv] = pinned(ctx.serverCpu, process.execPath, [ctx.cli, '--workers', '1', '--tls-cert', pem.cert, '--tls-key', pem.key, '--host', HOST, '--port', '0']);
  const proc = spawnTracked(cmd, argv);
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`sluice: no start-up line within 15 s\n${out}`)), 15_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /https:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) { clearTimeout(t); resolve(Number(m[1])); }
    });
    proc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    proc.once('exit', (code) => { clearTimeout(t); reject(new Error(`sluice exited with ${code}\n${out}`)); });
  });
  return { name: 'sluice', port, proc, stop: () => stopProcess(proc) };
}

async function startNginxTls(ctx: TlsBenchContext, bin: string, pem: { cert: string; key: string }): Promise<Running> {
  const dir = makeTempDir('sluice-bench-nginx-tls-');
  const port = await freePort(HOST);
  const conf = writeNginxConfig({ dir, host: HOST, port, root: path.resolve(ctx.site), index: 'hello.html', notFoundPage: '404.html' });
  // The plain config, made TLS: the same server block on `listen ... ssl http2` (nginx 1.22 syntax),
  // TLS 1.2/1.3, a session cache, and sluice's cipher list in sluice's order of preference: left
  // to the client's order nginx would pick AES-256-GCM where sluice picks AES-128-GCM, and both
  // servers must encrypt alike for the comparison to mean something.
  const tls12 = INTERMEDIATE_CIPHERS.split(':').filter((c) => !c.startsWith('TLS_')).join(':');
  const tls13 = INTERMEDIATE_CIPHERS.split(':').filter((c) => c.startsWith('TLS_')).join(':');
  const tlsConf = fs.readFileSync(conf, 'utf8').replace(
    /listen ([^;]+) backlog=2048;/,
    `listen $1 ssl http2 backlog=2048;\n    ssl_certificate ${pem.cert};\n    ssl_certificate_key ${pem.key};\n` +
    '    ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_session_cache shared:SSL:10m;\n    http2_max_concurrent_streams 128;\n' +
    `    ssl_prefer_server_ciphers on;\n    ssl_ciphers ${tls12};\n    ssl_conf_command Ciphersuites ${tls13};`,
  );
  fs.writeFileSync(conf, tlsConf);
  const [cmd, argv] = pinned(ctx.serverCpu, bin, ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', conf, '-g', 'daemon off;']);
  const proc = spawnTracked(cmd, argv);
  await waitForPort(HOST, port, 10_000);
  return { name: 'nginx', port, proc, stop: async () => { await stopProcess(proc); removeTempDir(dir); } };
}

/** GET / over HTTPS/1.1: status and length, to check both servers send the same page. */
function probe(port: number): Promise<{ status: number; length: number }> {
  return new Promise((resolve) => {
    const req = https.get({ host: HOST, port, path: '/', rejectUnauthorized: false, agent: false, timeout: 10_000 }, (res) => {
      let length = 0;
      res.on('data', (d: Buffer) => (length += d.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, length }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, length: 0 }));
  });
}

/** The protocol and cipher a server negotiates with OpenSSL's client defaults (as wrk and h2load use), or null. */
function negotiated(port: number): string | null {
  try {
    const out = execFileSync('openssl', ['s_client', '-connect', `${HOST}:${port}`], { input: '', stdio: 'pipe', timeout: 10_000 }).toString();
    return /New, (\S+), Cipher is (\S+)/.exec(out)?.slice(1, 3).join(' ') ?? null;
  } catch {
    return null;
  }
}

/** h2load's summary lines → the rps metrics (it reports a mean, not percentiles: p50 holds the mean). */
async function h2load(ctx: TlsBenchContext, port: number, durationS: number, h1: boolean): Promise<Record<string, number>> {
  const args = ['-c', String(CONNECTIONS), '-m', String(STREAMS), '-t', '1', '-D', String(durationS), ...(h1 ? ['--h1'] : []), `https://${HOST}:${port}/`];
  const [cmd, argv] = pinned(ctx.loadCpu, 'h2load', args);
  const r = await runToEnd(cmd, argv, (durationS + 20) * 1000);
  const rps = /finished in [\d.]+s, ([\d.]+) req\/s, ([\d.]+)([KMG]?)B\/s/.exec(r.stdout);
  const reqs = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(r.stdout);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(r.stdout);
  const mean = /time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)/.exec(r.stdout);
  if (!rps || !reqs || !codes) throw new Error(`h2load output not understood (code ${r.code}): ${r.stdout.slice(-500)} ${r.stderr.slice(-300)}`);
  const unit = { '': 1, K: 1e3, M: 1e6, G: 1e9 }[rps[3] as '' | 'K' | 'M' | 'G'];
  const meanMs = mean ? Number(mean[1]) * ({ us: 1e-3, ms: 1, s: 1000 }[mean[2] as 'us' | 'ms' | 's']) : NaN;
  return {
    rps: Number(rps[1]), mbPerSec: (Number(rps[2]) * unit) / 1e6, requests: Number(reqs[2]),
    errors: Number(reqs[5]) + Number(reqs[6]), non2xx: Number(codes[3]) + Number(codes[4]), p50: meanMs,
  };
}

interface Row { label: string; server: string; run(port: number, durationS: number): Promise<Record<string, number>> }

async function measure(ctx: TlsBenchContext, sc: ScenarioResult, rows: Row[], running: Map<string, Running>): Promise<void> {
  const results = new Map<string, ServerResult>();
  for (const row of rows) {
    const srv = running.get(row.server);
    const result: ServerResult = { server: row.label, status: srv ? 'ok' : 'skipped', notes: srv ? [] : [`${row.server} did not start`], rounds: [], summary: {} };
    results.set(row.label, result);
    sc.servers.push(result);
  }
  const active = rows.filter((r) => running.has(r.server));
  if (ctx.warmupS > 0) for (const row of active) await row.run(running.get(row.server)!.port, ctx.warmupS).catch(() => {});
  for (let round = 0; round < ctx.rounds; round++) {
    for (const row of active) {
      ctx.progress(`[${sc.id}] round ${round + 1}/${ctx.rounds} ${row.label}`);
      const result = results.get(row.label)!;
      try { result.rounds.push(await row.run(running.get(row.server)!.port, ctx.durationS)); }
      catch (err) { result.notes.push(`round ${round + 1}: ${(err as Error).message.split('\n')[0]}`); }
    }
  }
  for (const result of results.values()) {
    finish(result);
    const errs = result.rounds.reduce((x, r) => x + (r.errors ?? 0), 0);
    if (errs) result.notes.push(`${errs} socket errors/time-outs under load`);
  }
  const med = (label: string) => results.get(label)?.summary.rps?.median;
  const sluice = med(rows[0].label);
  const nginx = rows.find((r) => r.server === 'nginx');
  if (sluice !== undefined && nginx && med(nginx.label)) sc.ratios['sluice/nginx'] = sluice / med(nginx.label)!;
}

/** Runs the TLS scenarios asked for (ids among TLS_SCENARIOS). */
export async function runTlsScenarios(ctx: TlsBenchContext, ids: string[]): Promise<ScenarioResult[]> {
  const out: ScenarioResult[] = [];
  if (ids.length === 0) return out;
  const dir = makeTempDir('sluice-bench-tls-', ctx.tmp);
  fs.chmodSync(dir, 0o755);
  const pem = makeCert(dir);
  const running = new Map<string, Running>();
  const notes: string[] = [];
  try {
    try { running.set('sluice', await startSluice(ctx, pem)); } catch (err) { notes.push(`sluice did not start: ${(err as Error).message.split('\n')[0]}`); }
    if (ctx.nginxBin) {
      try { running.set('nginx', await startNginxTls(ctx, ctx.nginxBin, pem)); } catch (err) { notes.push(`nginx did not start: ${(err as Error).message.split('\n')[0]}`); }
    }
    const probes = await Promise.all([...running.values()].map(async (s) => [s.name, await probe(s.port)] as const));
    for (const [name, p] of probes) if (p.status !== 200) { notes.push(`${name}: GET / over HTTPS answered ${p.status}`); running.delete(name); }
    const lengths = new Set(probes.filter(([, p]) => p.status === 200).map(([, p]) => p.length));
    const ciphers = [...running.values()].map((s) => `${s.name}: ${negotiated(s.port) ?? 'unknown'}`);
    notes.push(`negotiated: ${ciphers.join(', ')}`);
    if (lengths.size > 1) notes.push(`the servers send pages of different lengths: ${probes.map(([n, p]) => `${n} ${p.length}`).join(', ')}`);

    if (ids.includes(HTTPS_ID)) {
      const sc: ScenarioResult = {
        id: HTTPS_ID, title: 'HTTPS GET / keep-alive, HTTP/1.1, 50 connections', kind: 'rps',
        method: `${ctx.loadgen.name} -c${CONNECTIONS} over TLS (HTTP/1.1), GET /, ${ctx.rounds} × ${ctx.durationS} s per server, load on CPU ${ctx.loadCpu}`,
        servers: [], ratios: {}, notes: [...notes],
      };
      const wrk = (port: number, durationS: number) => ctx.loadgen.run({ url: `https://${HOST}:${port}/`, connections: CONNECTIONS, durationS, pipeline: 1, cpus: ctx.loadCpu, timeoutS: 10 })
        .then((r) => ({ rps: r.rps, p50: r.p50, p99: r.p99, errors: r.errors, non2xx: r.non2xx, mbPerSec: r.bytesPerSec / 1e6, requests: r.requests }));
      await measure(ctx, sc, [{ label: 'sluice', server: 'sluice', run: wrk }, { label: 'nginx', server: 'nginx', run: wrk }], running);
      out.push(sc);
    }
    if (ids.includes(HTTP2_ID)) {
      const sc: ScenarioResult = {
        id: HTTP2_ID, title: `HTTP/2 GET /, h2load -c ${CONNECTIONS} -m ${STREAMS}`, kind: 'rps',
        method: `h2load -c${CONNECTIONS} -m${STREAMS} -t1 (p50 column: h2load's mean), ${ctx.rounds} × ${ctx.durationS} s per server, load on CPU ${ctx.loadCpu}; ` +
          `"sluice HTTP/1.1" is the same client with --h1 (${STREAMS} requests pipelined per connection)`,
        servers: [], ratios: {}, notes: [...notes],
      };
      if (!which('h2load')) {
        sc.notes.push('h2load is not installed (Debian package nghttp2-client)');
      } else {
        await measure(ctx, sc, [
          { label: 'sluice', server: 'sluice', run: (port, d) => h2load(ctx, port, d, false) },
          { label: 'nginx', server: 'nginx', run: (port, d) => h2load(ctx, port, d, false) },
          { label: 'sluice HTTP/1.1 (h2load --h1)', server: 'sluice', run: (port, d) => h2load(ctx, port, d, true) },
        ], running);
        const h2 = sc.servers.find((s) => s.server === 'sluice')?.summary.rps?.median;
        const h1 = sc.servers.find((s) => s.server.startsWith('sluice HTTP/1.1'))?.summary.rps?.median;
        if (h2 && h1) sc.ratios['sluice h2/sluice HTTP/1.1'] = h2 / h1;
      }
      out.push(sc);
    }
  } finally {
    await Promise.all([...running.values()].map((s) => s.stop()));
    removeTempDir(dir);
  }
  return out;
}
