// SIGTERM drain under a new connection per request: does any connection that the kernel let
// connect get reset instead of answered? Starts the CLI with --workers 2, runs 30 clients that each
// open a new connection per `GET /` back to back, sends SIGTERM after 1.5 s and counts, per run:
// 200s, ECONNREFUSED, ECONNRESET (or a connection closed with no response), other errors.
//
//   node dist/bench/drain-resets.js [--runs N] [--workers 2] [--clients 30] [--term-after 1500] [--node PATH]
//        [--policy rr|none] [--open N] [--port 21400] [--ss] [--json] [-- extra CLI args]
//
// --node runs the server with another Node binary (e.g. Node 24 for reusePort); --policy sets
// NODE_CLUSTER_SCHED_POLICY; --open N opens N connections every 10 ms instead of the 30 loops
// (an open-ended stream that never waits for answers); --ss samples `ss -ltn` for the port every 10 ms from the SIGTERM on
// and prints the largest Recv-Q seen per listening socket. Each run is bounded (20 s).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const cliPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli.js');
const RUN_DEADLINE_MS = 20_000;

interface Args { open: number; workers: string; runs: number; clients: number; termAfter: number; node: string; policy?: string; port: number; ss: boolean; json: boolean; extra: string[] }

function parse(argv: string[]): Args {
  const a: Args = { open: 0, workers: '2', runs: 5, clients: 30, termAfter: 1500, node: process.execPath, port: 21400, ss: false, json: false, extra: [] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = () => { const x = argv[++i]; if (x === undefined) throw new Error(`${k} needs a value`); return x; };
    if (k === '--') { a.extra = argv.slice(i + 1); break; }
    else if (k === '--runs') a.runs = Number(v());
    else if (k === '--workers') a.workers = v();
    else if (k === '--open') a.open = Number(v());
    else if (k === '--clients') a.clients = Number(v());
    else if (k === '--term-after') a.termAfter = Number(v());
    else if (k === '--node') a.node = v();
    else if (k === '--policy') a.policy = v();
    else if (k === '--port') a.port = Number(v());
    else if (k === '--ss') a.ss = true;
    else if (k === '--json') a.json = true;
    else throw new Error(`unknown argument ${k}`);
  }
  return a;
}

export interface RunResult {
  ok: number; refused: number; reset: number; noResponse: number; other: number;
  /** ms after SIGTERM of each reset / empty close. */
  resetsAt: number[];
  otherErrors: string[];
  exitCode: number | null;
  drainMs: number;
  /** Date.now() at the SIGTERM (to line the resets up with an strace of the server). */
  termEpochMs: number;
  maxRecvQ?: number[];
  output: string;
}

export type Outcome = 'ok' | 'refused' | 'reset' | 'noResponse' | string;

/** One request on a new connection; resolves with how it ended. */
export function requestOnce(port: number): Promise<Outcome> {
  return new Promise((resolve) => {
    let connected = false;
    let data = '';
    let done = false;
    const finish = (o: Outcome) => { if (!done) { done = true; clearTimeout(t); s.destroy(); resolve(o); } };
    const s = net.connect({ port, host: '127.0.0.1' });
    const t = setTimeout(() => finish('timeout'), 5000);
    s.setEncoding('latin1');
    s.on('connect', () => { connected = true; s.write('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'); });
    s.on('data', (d: string) => { data += d; });
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED' && !connected) finish('refused');
      else if (e.code === 'ECONNRESET' || e.code === 'EPIPE') finish(data.startsWith('HTTP/1.1 200 ') ? 'ok' : 'reset');
      else finish(e.code ?? e.message);
    });
    s.on('close', () => {
      if (data.startsWith('HTTP/1.1 200 ')) finish('ok');
      else if (data === '') finish(connected ? 'noResponse' : 'closed before connect');
      else finish(`status ${JSON.stringify(data.slice(0, 12))}`);
    });
  });
}

function start(a: Args, port: number): Promise<{ proc: ChildProcess; out: () => string }> {
  const env = { ...process.env };
  if (a.policy) env.NODE_CLUSTER_SCHED_POLICY = a.policy;
  else delete env.NODE_CLUSTER_SCHED_POLICY;
  const proc = spawn(a.node, [cliPath, '--workers', a.workers, '--port', String(port), ...a.extra], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`no start-up line in 10 s:\n${out}`)); }, 10_000);
    const check = () => { if (/sluice listening on/.test(out)) { clearTimeout(t); resolve({ proc, out: () => out }); } };
    proc.stdout!.on('data', check);
    proc.on('exit', () => { clearTimeout(t); reject(new Error(`exited before start-up:\n${out}`)); });
  });
}

/** Largest Recv-Q per listening socket on `port` seen by `ss -ltn` so far (Linux; empty if ss is missing). */
function sampleSs(port: number, max: number[]): void {
  let text = '';
  try { text = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }); } catch { return; }
  text.trim().split('\n').filter(Boolean).forEach((line, i) => {
    const q = Number(line.trim().split(/\s+/)[1]);
    if (Number.isFinite(q)) max[i] = Math.max(max[i] ?? 0, q);
  });
}

export async function runOnce(a: Args, port: number): Promise<RunResult> {
  const { proc, out } = await start(a, port);
  const r: RunResult = { ok: 0, refused: 0, reset: 0, noResponse: 0, other: 0, resetsAt: [], otherErrors: [], exitCode: null, drainMs: 0, termEpochMs: 0, output: '' };
  let termAt = 0;
  let running = true;
  let exitedAt = 0;
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => { exitedAt = performance.now(); resolve(code); }));
  const hardStop = setTimeout(() => { running = false; proc.kill('SIGKILL'); }, RUN_DEADLINE_MS);
  const client = async () => {
    while (running) {
      const o = await requestOnce(port);
      if (o === 'ok') r.ok++;
      else if (o === 'refused') { r.refused++; await sleep(5); }
      else if (o === 'reset' || o === 'noResponse') {
        if (o === 'reset') r.reset++; else r.noResponse++;
        r.resetsAt.push(termAt ? Math.round(performance.now() - termAt) : -1);
      } else { r.other++; if (r.otherErrors.length < 5) r.otherErrors.push(o); }
    }
  };
  const count = (o: Outcome) => {
    if (o === 'ok') r.ok++;
    else if (o === 'refused') r.refused++;
    else if (o === 'reset' || o === 'noResponse') {
      if (o === 'reset') r.reset++; else r.noResponse++;
      r.resetsAt.push(termAt ? Math.round(performance.now() - termAt) : -1);
    } else { r.other++; if (r.otherErrors.length < 5) r.otherErrors.push(o); }
  };
  // --open N: N new connections every 10 ms whatever happens to the earlier ones (clients that
  // do not wait for an answer, like a stream of new visitors), instead of the closed loops.
  const pending = new Set<Promise<void>>();
  const opener = a.open > 0 ? setInterval(() => {
    for (let i = 0; i < a.open; i++) {
      const p: Promise<void> = requestOnce(port).then(count).finally(() => pending.delete(p));
      pending.add(p);
    }
  }, 10) : null;
  const clients = a.open > 0 ? [] : Array.from({ length: a.clients }, client);
  await sleep(a.termAfter);
  termAt = performance.now();
  r.termEpochMs = Date.now();
  proc.kill('SIGTERM');
  const maxQ: number[] = [];
  if (a.ss) void (async () => { while (!exitedAt) { sampleSs(port, maxQ); await sleep(10); } })();
  r.exitCode = await exited;
  r.drainMs = Math.round(exitedAt - termAt);
  await sleep(200); // a few refusals after the exit: nothing is left listening
  running = false;
  if (opener) clearInterval(opener);
  await Promise.all([...clients, ...pending]);
  clearTimeout(hardStop);
  if (a.ss) r.maxRecvQ = maxQ;
  r.output = out();
  return r;
}

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  const version = execFileSync(a.node, ['--version'], { encoding: 'utf8' }).trim();
  console.log(`drain-resets: Node ${version}, --workers ${a.workers}, policy ${a.policy ?? 'default'}, ${a.clients} clients, SIGTERM after ${a.termAfter} ms, ${a.runs} runs`);
  const resets: number[] = [];
  for (let i = 0; i < a.runs; i++) {
    const r = await runOnce(a, a.port + (i % 50));
    resets.push(r.reset + r.noResponse);
    const mode = a.workers === '1' ? 'single' : /workers, reusePort/.test(r.output) ? 'reusePort' : 'rr/none';
    console.log(`run ${i + 1} (${mode}): 200 ${r.ok}, refused ${r.refused}, reset ${r.reset}, closed without response ${r.noResponse}, other ${r.other}` +
      `${r.otherErrors.length ? ` (${r.otherErrors.join(', ')})` : ''}; drain ${r.drainMs} ms, exit ${r.exitCode}` +
      `${r.resetsAt.length ? `; resets at +${r.resetsAt.join(',')} ms` : ''}${r.maxRecvQ ? `; max Recv-Q ${JSON.stringify(r.maxRecvQ)}` : ''}`);
    if (a.json) console.log(JSON.stringify({ ...r, output: undefined }));
    if (r.exitCode !== 0) console.log(r.output);
  }
  console.log(`resets per run: ${resets.join(', ')}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
