// A steady load: loops sending GETs back to back, on kept-alive connections or a new connection per
// request, counting what failed (an error, a timeout, a status other than 200, a body `expect`
// refuses) and recording each outcome with the worker that answered (its X-Worker header), so a
// test can ask which workers served and what failed when.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LoadResult {
  ok: number;
  failed: number;
  /** The first few failures, for the assertion message. */
  errors: string[];
}

export interface Outcome { at: number; ok: boolean; pid: number; error?: string }

export interface Load {
  /** Counts so far. */
  readonly result: LoadResult;
  /** Every request so far, in the order they ended (`at`: performance.now()). */
  readonly outcomes: Outcome[];
  /** The X-Worker pids of the successful answers. */
  pids(): Set<number>;
  failures(): Outcome[];
  /** Stops after the requests in flight; resolves with the totals. */
  stop(): Promise<LoadResult>;
}

export interface LoadOptions {
  port: number;
  path?: string;
  /** Loops on kept-alive connections (new connections if `keepAlive` is false). Default 8. */
  concurrency?: number;
  /** Loops with a new connection per request, besides those. Default 0. */
  fresh?: number;
  localAddress?: string;
  timeoutMs?: number;
  /** Default true; false opens a new connection per request in every loop. */
  keepAlive?: boolean;
  /** Checks each 200 response's body: a message makes it a failure. */
  expect?: (body: string) => string | null;
}

export function startLoad(opts: LoadOptions): Load {
  const concurrency = opts.concurrency ?? 8;
  const agent = new http.Agent({ keepAlive: opts.keepAlive ?? true, maxSockets: Math.max(1, concurrency) });
  const expect = opts.expect;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const result: LoadResult = { ok: 0, failed: 0, errors: [] };
  const outcomes: Outcome[] = [];
  let running = true;
  const record = (pid: number, error?: string) => {
    outcomes.push({ at: performance.now(), ok: error === undefined, pid, error });
    if (error === undefined) { result.ok++; return; }
    result.failed++;
    if (result.errors.length < 10) result.errors.push(error);
  };
  const once = (a: http.Agent | false) => new Promise<boolean>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: opts.port, path: opts.path ?? '/', agent: a, localAddress: opts.localAddress, timeout: timeoutMs }, (res) => {
      let body = '';
      if (expect) { res.setEncoding('utf8'); res.on('data', (d: string) => (body += d)); } else res.resume();
      res.on('end', () => {
        const pid = Number(res.headers['x-worker'] ?? 0);
        const wrong = res.statusCode === 200 && expect ? expect(body) : null;
        if (res.statusCode !== 200) record(pid, `status ${res.statusCode}`);
        else if (wrong !== null) record(pid, wrong);
        else record(pid);
        resolve(true);
      });
      res.on('error', (e) => { record(0, `response: ${e.message}`); resolve(false); });
    });
    req.on('timeout', () => req.destroy(new Error(`no response within ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      record(0, `request: ${e.code ?? e.message}${req.reusedSocket ? ' (reused keep-alive socket)' : ''}`);
      resolve(false);
    });
  });
  const loop = async (a: http.Agent | false) => {
    // A short pause after an error, so a refused port is not hammered in a tight loop.
    while (running) if (!(await once(a))) await sleep(5);
  };
  const loops = [
    ...Array.from({ length: concurrency }, () => loop(agent)),
    ...Array.from({ length: opts.fresh ?? 0 }, () => loop(false)),
  ];
  return {
    result,
    outcomes,
    pids: () => new Set(outcomes.filter((o) => o.ok).map((o) => o.pid)),
    failures: () => outcomes.filter((o) => !o.ok),
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return result;
    },
  };
}

/** One GET from a chosen local address (Linux routes all of 127/8 to lo), its body parsed as JSON. */
export function getJson<T = Record<string, unknown>>(opts: { port: number; path?: string; localAddress?: string; headers?: Record<string, string> }): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: opts.port, path: opts.path ?? '/', localAddress: opts.localAddress, headers: opts.headers, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        try { resolve(JSON.parse(body) as T); } catch { reject(new Error(`status ${res.statusCode}, not JSON: ${body.slice(0, 200)}`)); }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}
