// Shared plumbing for the benchmark harness: paths, child processes (every one tracked and killed on
// exit, error and SIGINT), CPU pinning with taskset, /proc readers, small statistics helpers.
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** dist/bench when compiled. */
export const benchDistDir = path.dirname(fileURLToPath(import.meta.url));
/** The repository root (dist/bench/../..). */
export const repoRoot = path.resolve(benchDistDir, '..', '..');
export const defaultCliPath = path.join(repoRoot, 'dist', 'src', 'cli.js');
export const baselinePath = path.join(benchDistDir, 'baseline-node-http.js');
export const sleepClientPath = path.join(benchDistDir, 'sleep-client.js');
export const defaultSiteDir = path.join(repoRoot, 'site');

// ---------------------------------------------------------------------------------------------
// Tools on this machine

/** Full path of an executable on PATH (or in /usr/sbin, where Debian puts nginx), else null. */
export function which(cmd: string): string | null {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/local/sbin', '/sbin']);
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch { /* next */ }
  }
  return null;
}

/** First line of `cmd args` (stdout or stderr), for version strings. */
export function versionOf(cmd: string, args: string[]): string | null {
  try {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
    const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
    return text.split('\n')[0] || null;
  } catch {
    return null;
  }
}

export const tasksetPath = which('taskset');

/**
 * Prefixes `cmd args` with `taskset -c CPUS` when taskset exists and `cpus` is given.
 * taskset execs the command, so the child's pid is the command's own pid.
 */
export function pinned(cpus: string | null, cmd: string, args: string[]): [string, string[]] {
  if (cpus === null || !tasksetPath) return [cmd, args];
  return [tasksetPath, ['-c', cpus, cmd, ...args]];
}

// ---------------------------------------------------------------------------------------------
// Child processes: every child is tracked; cleanup kills them (and their descendants) by pid.

const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();

export function track(proc: ChildProcess): ChildProcess {
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  return proc;
}

export function spawnTracked(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  return track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts }));
}

export function makeTempDir(prefix: string, parent?: string): string {
  const base = parent ?? (process.env.TMPDIR || '/tmp');
  const dir = fs.mkdtempSync(path.join(base, prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* ignore */ }
  tempDirs.delete(dir);
}

/** pid -> parent pid for every process visible in /proc (Linux); empty elsewhere. */
function processTable(): Map<number, number> {
  const table = new Map<number, number>();
  let entries: string[];
  try { entries = fs.readdirSync('/proc'); } catch { return table; }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'latin1');
      // pid (comm) state ppid ...; comm may contain spaces and parentheses: split after the last ')'.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(e), Number(rest[1]));
    } catch { /* gone */ }
  }
  return table;
}

/** Every descendant pid of `pid` (children, grandchildren, ...). */
export function descendants(pid: number): number[] {
  const table = processTable();
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    for (const [child, parent] of table) {
      if (parent === p) { out.push(child); queue.push(child); }
    }
  }
  return out;
}

function killPid(pid: number, signal: NodeJS.Signals): void {
  try { process.kill(pid, signal); } catch { /* already gone */ }
}

/**
 * Stops a child and everything it started: SIGTERM to the child, SIGKILL to it and to its
 * descendants (cluster workers, nginx workers) after `graceMs`. Resolves once the child is gone.
 */
export async function stopProcess(proc: ChildProcess, graceMs = 3000): Promise<void> {
  if (proc.pid === undefined) return;
  const kids = descendants(proc.pid);
  const exited = proc.exitCode !== null || proc.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => proc.once('exit', () => r()));
  killPid(proc.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    killPid(proc.pid!, 'SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
  // Orphans: whatever the child started and left behind.
  for (const k of kids) killPid(k, 'SIGKILL');
  live.delete(proc);
}

/** Synchronous last resort: SIGKILL every tracked child and its descendants, remove temp dirs. */
export function killAllSync(): void {
  for (const proc of live) {
    if (proc.pid === undefined) continue;
    const kids = descendants(proc.pid);
    killPid(proc.pid, 'SIGKILL');
    for (const k of kids) killPid(k, 'SIGKILL');
  }
  live.clear();
  for (const d of tempDirs) {
    try { fs.rmSync(d, { recursive: true, force: true }); } catch { /* ignore */ }
  }
  tempDirs.clear();
}

let cleanupInstalled = false;
/** Installs exit/SIGINT/SIGTERM/uncaught-error handlers that kill every child. */
export function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping every child process\n`);
      killAllSync();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`bench: uncaught error: ${err?.stack ?? err}\n`);
    killAllSync();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`bench: unhandled rejection: ${(err as Error)?.stack ?? err}\n`);
    killAllSync();
    process.exit(1);
  });
}

/** Runs a child to completion with a hard time limit; resolves with its output. */
export function runToEnd(
  cmd: string, args: string[], timeoutMs: number, opts: SpawnOptions = {},
): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const proc = spawnTracked(cmd, args, opts);
    let stdout = '', stderr = '', timedOut = false;
    proc.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
    proc.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => {
      timedOut = true;
      try { proc.kill('SIGKILL'); } catch { /* gone */ }
    }, timeoutMs);
    proc.on('error', (err) => { clearTimeout(timer); reject(err); });
    proc.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr, timedOut }); });
  });
}

// ---------------------------------------------------------------------------------------------
// Network helpers

/** A port that was free a moment ago (for nginx, which cannot report a port it picked). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once a TCP connect to host:port succeeds; rejects after `timeoutMs`. */
export async function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------------------------
// /proc readers

/** A field of /proc/PID/status in KiB (VmRSS, VmHWM), or null. */
export function procStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}
