// Starting and stopping the servers under test: sluice (the CLI), the node:http baseline, nginx.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { pinned, spawnTracked, stopProcess, waitForPort, freePort, makeTempDir, removeTempDir } from './common.js';
import { writeNginxConfig } from './nginx.js';

export interface RunningServer {
  name: string;
  url: string;
  host: string;
  port: number;
  pid: number;
  proc: ChildProcess;
  /** The last 64 KiB the server printed (stdout + stderr). */
  output(): string;
  /** Set when the process exited on its own (a crash) before stop(). */
  crashed(): string | null;
  stop(): Promise<void>;
}

const TAIL = 64 * 1024;

function capture(proc: ChildProcess): { text: () => string; onData: (cb: (all: string) => void) => void } {
  let out = '';
  const listeners: ((all: string) => void)[] = [];
  const add = (d: Buffer) => {
    out += d.toString();
    if (out.length > TAIL * 2) out = out.slice(-TAIL);
    for (const l of listeners) l(out);
  };
  // Always drained: a server that logs every request must never block on a full pipe.
  proc.stdout?.on('data', add);
  proc.stderr?.on('data', add);
  return { text: () => out.slice(-TAIL), onData: (cb) => listeners.push(cb) };
}

function wrap(name: string, proc: ChildProcess, host: string, port: number, out: () => string, cleanup?: () => void): RunningServer {
  let stopping = false;
  let crash: string | null = null;
  proc.once('exit', (code, signal) => {
    if (!stopping) crash = `${name} exited by itself (code ${code}, signal ${signal})`;
  });
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    name, host, port, proc, pid: proc.pid!,
    url: `http://${urlHost}:${port}`,
    output: out,
    crashed: () => crash,
    async stop() {
      stopping = true;
      await stopProcess(proc);
      cleanup?.();
    },
  };
}

/**
 * Runs `node SCRIPT ...args` (pinned to `cpus`) and waits for its start-up line with
 * `http://HOST:PORT`. Fails after `timeoutMs`, with whatever the process printed.
 */
export function startNodeServer(
  name: string, script: string, args: string[], cpus: string | null,
  env: NodeJS.ProcessEnv = {}, timeoutMs = 15_000,
): Promise<RunningServer> {
  const [cmd, argv] = pinned(cpus, process.execPath, [script, ...args]);
  const proc = spawnTracked(cmd, argv, { env: { ...process.env, ...env } });
  const out = capture(proc);
  return new Promise((resolve, reject) => {
    let done = false;
    const fail = (msg: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      void stopProcess(proc, 500).then(() => reject(new Error(`${name}: ${msg}\n--- output ---\n${out.text().slice(-4000)}`)));
    };
    const timer = setTimeout(() => fail(`no start-up line within ${timeoutMs} ms`), timeoutMs);
    proc.once('error', (err) => fail(`cannot start: ${err.message}`));
    proc.once('exit', (code, signal) => fail(`exited before start-up (code ${code}, signal ${signal})`));
    out.onData((all) => {
      if (done) return;
      const m = /http:\/\/([\d.]+|\[[^\]]+\]|localhost):(\d+)/.exec(all);
      if (!m) return;
      done = true;
      clearTimeout(timer);
      const host = m[1]!.replace(/^\[|\]$/g, '');
      resolve(wrap(name, proc, host, Number(m[2]), out.text));
    });
  });
}

export interface NginxSite { root: string; index: string; notFoundPage?: string }

/** Starts `nginx -c CONF -g 'daemon off;'` on a free port; resolves once it accepts connections. */
export function startNginx(name: string, bin: string, site: NginxSite, cpus: string | null, host = '127.0.0.1'): Promise<RunningServer> {
  return startNginxWith(name, bin, (dir, port) =>
    writeNginxConfig({ dir, host, port, root: path.resolve(site.root), index: site.index, notFoundPage: site.notFoundPage }), cpus, host);
}

/** The same with a configuration of the caller's: `writeConf(dir, port)` writes it into `dir` and returns its path. */
export async function startNginxWith(
  name: string, bin: string, writeConf: (dir: string, port: number) => string, cpus: string | null, host = '127.0.0.1',
): Promise<RunningServer> {
  const dir = makeTempDir('sluice-bench-nginx-');
  const port = await freePort(host);
  const conf = writeConf(dir, port);
  const [cmd, argv] = pinned(cpus, bin, ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', conf, '-g', 'daemon off;']);
  const proc = spawnTracked(cmd, argv);
  const out = capture(proc);
  const exited = new Promise<string>((r) => proc.once('exit', (code) => r(`nginx exited with ${code}`)));
  try {
    await Promise.race([waitForPort(host, port, 10_000), exited.then((m) => { throw new Error(m); })]);
  } catch (err) {
    await stopProcess(proc, 500);
    removeTempDir(dir);
    throw new Error(`${name}: ${(err as Error).message}\n${out.text().slice(-2000)}`);
  }
  return wrap(name, proc, host, port, out.text, () => removeTempDir(dir));
}
