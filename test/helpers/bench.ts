// Runs the benchmark harness (dist/bench/run.js) as a child in its own process group, with a
// deadline: SIGTERM first (the harness stops its servers), then SIGKILL to the whole group.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { distDir } from './cli.js';

export async function runHarness(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  const proc = spawn(process.execPath, [path.join(distDir, 'bench', 'run.js'), ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const killGroup = (sig: NodeJS.Signals) => { try { process.kill(-proc.pid!, sig); } catch { /* gone */ } };
  const onExit = () => killGroup('SIGKILL');
  process.on('exit', onExit);
  let output = '';
  proc.stdout.on('data', (d: Buffer) => { output += d.toString(); });
  proc.stderr.on('data', (d: Buffer) => { output += d.toString(); });
  try {
    const code = await new Promise<number | null>((resolve) => {
      const soft = setTimeout(() => killGroup('SIGTERM'), timeoutMs);
      const hard = setTimeout(() => killGroup('SIGKILL'), timeoutMs + 3000);
      proc.on('exit', (c) => { clearTimeout(soft); clearTimeout(hard); resolve(c); });
    });
    return { code, output };
  } finally {
    process.off('exit', onExit);
    killGroup('SIGKILL');
  }
}
