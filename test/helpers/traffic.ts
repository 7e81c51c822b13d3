// Traffic for cluster tests: a request that records which worker answered (X-Worker), and polling
// with a deadline. (Loads of such requests: startLoad in load.ts.)
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

/** Resolves when `pred()` holds, polling; rejects after `timeoutMs` with `what`. */
export async function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!pred()) {
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

