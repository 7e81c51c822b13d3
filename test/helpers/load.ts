// A steady load through a proxy: N loops, each sending GETs back to back over a keep-alive
// agent, counting what failed (an error, a timeout, or a status other than 200).
import http from 'node:http';

export interface LoadResult {
  ok: number;
  failed: number;
  /** The first few failures, for the assertion message. */
  errors: string[];
}

export interface Load {
  /** Counts so far. */
  readonly result: LoadResult;
  /** Stops after the requests in flight; resolves with the totals. */
  stop(): Promise<LoadResult>;
}

export interface LoadOptions {
  port: number;
  path?: string;
  /** Loops sending at once. Default 8. */
  concurrency?: number;
  localAddress?: string;
  timeoutMs?: number;
  /** Default true; false opens a new connection per request. */
  keepAlive?: boolean;
  /** Checks each 200 response's body: a message makes it a failure. */
  expect?: (body: string) => string | null;
}

export function startLoad(opts: LoadOptions): Load {
  const agent = new http.Agent({ keepAlive: opts.keepAlive ?? true, maxSockets: opts.concurrency ?? 8 });
  const expect = opts.expect;
  const result: LoadResult = { ok: 0, failed: 0, errors: [] };
  let running = true;
  const fail = (why: string) => {
    result.failed++;
    if (result.errors.length < 10) result.errors.push(why);
  };
  const once = () => new Promise<void>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: opts.port, path: opts.path ?? '/', agent, localAddress: opts.localAddress, timeout: opts.timeoutMs ?? 5000 }, (res) => {
      let body = '';
      if (expect) { res.setEncoding('utf8'); res.on('data', (d: string) => (body += d)); } else res.resume();
      res.on('end', () => {
        const wrong = res.statusCode === 200 && expect ? expect(body) : null;
        if (res.statusCode !== 200) fail(`status ${res.statusCode}`);
        else if (wrong !== null) fail(wrong);
        else result.ok++;
        resolve();
      });
      res.on('error', (e) => { fail(`response: ${e.message}`); resolve(); });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => { fail(`request: ${e.message}`); resolve(); });
  });
  const loops = Array.from({ length: opts.concurrency ?? 8 }, async () => {
    while (running) await once();
  });
  return {
    result,
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
