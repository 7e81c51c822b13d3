// Traffic for cluster tests: requests that record which worker answered (X-Worker), loops of them
// on new or kept-alive connections, and polling with a deadline.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Reply { status: number; pid: number; connection: string | undefined; body: string }

/** GET over a fresh connection (agent false) or a keep-alive agent. Rejects on any error or after timeoutMs. */
export function get(port: number, path: string, agent: http.Agent | false, timeoutMs = 3000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, pid: Number(res.headers['x-worker'] ?? 0), connection: res.headers.connection, body }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no response within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => reject(Object.assign(err, { reused: req.reusedSocket })));
  });
}

export interface Outcome { at: number; ok: boolean; pid: number; error?: string }

/** Keeps `fresh` loops on new connections and `keepAlive` loops on a keep-alive agent busy until stop(). */
export function load(port: number, opts: { fresh: number; keepAlive: number; path: string }) {
  const outcomes: Outcome[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(1, opts.keepAlive) });
  let stopped = false;
  const loop = async (a: http.Agent | false) => {
    while (!stopped) {
      try {
        const r = await get(port, opts.path, a);
        outcomes.push({ at: performance.now(), ok: r.status === 200, pid: r.pid, error: r.status === 200 ? undefined : `status ${r.status}` });
      } catch (err) {
        const e = err as NodeJS.ErrnoException & { reused?: boolean };
        outcomes.push({ at: performance.now(), ok: false, pid: 0, error: `${e.code ?? e.message}${e.reused ? ' (reused keep-alive socket)' : ''}` });
        await sleep(5);
      }
    }
  };
  const loops = [
    ...Array.from({ length: opts.fresh }, () => loop(false)),
    ...Array.from({ length: opts.keepAlive }, () => loop(agent)),
  ];
  return {
    outcomes,
    pids: () => new Set(outcomes.filter((o) => o.ok).map((o) => o.pid)),
    failures: () => outcomes.filter((o) => !o.ok),
    async stop() {
      stopped = true;
      await Promise.all(loops);
      agent.destroy();
    },
  };
}

/** Resolves when `pred()` holds, polling; rejects after `timeoutMs` with `what`. */
export async function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!pred()) {
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

