// Start the real CLI (or any sluice script) as a child process and wait for its start-up line.
// Every process started here is killed when the test process exits, so a failing test leaves nothing behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const distDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cliPath = path.join(distDir, 'src', 'cli.js');
export const repoRoot = path.resolve(distDir, '..');

export interface Running {
  proc: ChildProcess;
  url: string;
  port: number;
  /** Everything the process printed so far (stdout + stderr). */
  output(): string;
  /** Resolves when the output matches `re` (deadline `ms`). */
  waitFor(re: RegExp, ms?: number): Promise<void>;
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null when killed). */
  stop(graceMs?: number): Promise<number | null>;
  /** Resolves with the exit code when the process exits. */
  exited: Promise<number | null>;
}

export interface StartOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** The start-up line: group 1 the host, group 2 the port. Default: the first http://HOST:PORT. */
  startLine?: RegExp;
  /** The scheme of `url`. Default 'http'. */
  scheme?: 'http' | 'https';
}

const live = new Set<ChildProcess>();
process.on('exit', () => { for (const p of live) p.kill('SIGKILL'); });

/** Runs `node <script> ...args` and resolves once it prints its start-up line. Fails after `timeoutMs`. */
export function startScript(script: string, args: string[], opts: StartOptions = {}): Promise<Running> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const startLine = opts.startLine ?? /http:\/\/([\d.]+|\[[^\]]+\]|localhost):(\d+)/;
  const proc = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  let out = '';
  const listeners = new Set<() => void>();
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => { live.delete(proc); resolve(code); }));
  const waitFor = (re: RegExp, ms = 10_000) => new Promise<void>((resolve, reject) => {
    const check = () => { if (re.test(out)) { clearTimeout(t); listeners.delete(check); resolve(); } };
    const t = setTimeout(() => { listeners.delete(check); reject(new Error(`no ${re} within ${ms} ms:\n${out}`)); }, ms);
    listeners.add(check);
    check();
  });
  const heard = (d: Buffer) => { out += d.toString(); for (const l of listeners) l(); };
  return new Promise<Running>((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`no start-up line within ${timeoutMs} ms:\n${out}`)); }, timeoutMs);
    let started = false;
    proc.stdout!.on('data', (d: Buffer) => {
      heard(d);
      const m = startLine.exec(out);
      if (m && !started) {
        started = true;
        clearTimeout(timer);
        const port = Number(m[2]);
        resolve({
          proc, port, url: `${opts.scheme ?? 'http'}://${m[1]}:${port}`, exited,
          output: () => out,
          waitFor,
          signal: (sig) => proc.kill(sig),
          stop: (graceMs = 5000) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return exited;
            proc.kill('SIGTERM');
            const k = setTimeout(() => proc.kill('SIGKILL'), graceMs);
            return exited.finally(() => clearTimeout(k));
          },
        });
      }
    });
    proc.stderr!.on('data', heard);
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`exited with ${code} before start-up:\n${out}`)); });
  });
}

/** Runs the sluice CLI on a free port (`--port 0`) unless the args name one. */
export function startCli(args: string[] = [], opts: StartOptions = {}): Promise<Running> {
  const withPort = args.includes('--port') ? args : [...args, '--port', '0'];
  return startScript(cliPath, withPort, opts);
}

/** Runs the CLI to completion (for --help, bad flags): resolves with exit code and output. */
export function runCli(args: string[], timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(proc);
    let stdout = '', stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`CLI did not exit within ${timeoutMs} ms`)); }, timeoutMs);
    proc.on('exit', (code) => { live.delete(proc); clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/** The admin listener's URL (no trailing slash), once a CLI started with --admin prints its line. */
export async function adminUrl(output: () => string, deadlineMs = 10_000): Promise<string> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const m = /sluice admin on (http:\/\/[^/\s]+)\//.exec(output());
    if (m) return m[1]!;
    if (Date.now() > end) throw new Error(`no admin line:\n${output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
