// A third-party server (HAProxy, nginx) run in the foreground for a test: its output collected,
// killed on stop() and when the test process exits.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

const live = new Set<ChildProcess>();
process.on('exit', () => { for (const p of live) p.kill('SIGKILL'); });

export interface Daemon {
  proc: ChildProcess;
  /** Everything it printed (stdout + stderr). */
  output(): string;
  /** SIGTERM, SIGKILL after 2 s; resolves once it exited. */
  stop(): Promise<void>;
}

/** Starts `bin args` and resolves once 127.0.0.1:`port` accepts (and `ready()` holds); fails if it exits first or after 10 s. */
export async function startDaemon(bin: string, args: string[], port: number, ready: () => boolean = () => true): Promise<Daemon> {
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => proc.on('exit', () => { live.delete(proc); resolve(); }));
  const name = bin.split('/').pop();
  const end = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${name} exited with ${proc.exitCode}:\n${out}`);
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
      c.on('error', () => resolve(false));
    });
    if (ok && ready()) break;
    if (Date.now() > end) { proc.kill('SIGKILL'); throw new Error(`${name} did not listen on ${port}:\n${out}`); }
    await delay(50);
  }
  return {
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const k = setTimeout(() => proc.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(k);
    },
  };
}
