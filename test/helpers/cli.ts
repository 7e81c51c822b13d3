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
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null when killed). */
  stop(graceMs?: number): Promise<number | null>;
  /** Resolves with the exit code when the process exits. */
  exited: Promise<number | null>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => { for (const p of live) p.kill('SIGKILL'); });

/** Runs `node <script> ...args` and resolves once it prints `http://HOST:PORT`. Fails after `timeoutMs`. */
export function startScript(script: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Running> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const proc = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  let out = '';
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => { live.delete(proc); resolve(code); }));
  return new Promise<Running>((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`no start-up line within ${timeoutMs} ms:\n${out}`)); }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/([\d.]+|\[[^\]]+\]|localhost):(\d+)/.exec(out);
      if (m && timer) {
        clearTimeout(timer);
        const port = Number(m[2]);
        resolve({
          proc, port, url: `http://${m[1]}:${port}`, exited,
          output: () => out,
          stop: (graceMs = 5000) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return exited;
            proc.kill('SIGTERM');
            const k = setTimeout(() => proc.kill('SIGKILL'), graceMs);
            return exited.finally(() => clearTimeout(k));
          },
        });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`exited with ${code} before start-up:\n${out}`)); });
  });
}

/** Runs the sluice CLI on a free port (`--port 0`) unless the args name one. */
export function startCli(args: string[] = [], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Running> {
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
