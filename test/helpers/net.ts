// Raw-socket clients for tests: send bytes exactly as written and collect what comes back.
import net from 'node:net';
import { execFile } from 'node:child_process';

/** Opens a connection, writes `data` in one write, resolves with everything received until the server closes (or `ms`). */
export function rawRequest(port: number, data: string | Buffer, opts: { ms?: number; end?: boolean; host?: string } = {}): Promise<string> {
  const ms = opts.ms ?? 5000;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, opts.host ?? '127.0.0.1', () => {
      s.write(data);
      if (opts.end) s.end();
    });
    const t = setTimeout(() => { s.destroy(); resolve(Buffer.concat(chunks).toString('latin1')); }, ms);
    s.on('data', (d) => chunks.push(d));
    s.on('error', (e) => { clearTimeout(t); reject(e); });
    s.on('close', () => { clearTimeout(t); resolve(Buffer.concat(chunks).toString('latin1')); });
  });
}

/** A connection that collects output; `until` waits for a condition on it. */
export class RawClient {
  readonly socket: net.Socket;
  private data = '';
  private waiters: (() => void)[] = [];
  closed = false;
  readonly connected: Promise<void>;

  constructor(port: number, host = '127.0.0.1') {
    this.socket = net.connect(port, host);
    this.connected = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('error', () => {});
    this.socket.on('data', (d) => { this.data += d.toString('latin1'); this.wake(); });
    this.socket.on('close', () => { this.closed = true; this.wake(); });
  }

  private wake() { for (const w of this.waiters.splice(0)) w(); }

  get output(): string { return this.data; }

  send(s: string | Buffer): void { this.socket.write(s); }

  until(pred: (out: string, closed: boolean) => boolean, ms = 5000): Promise<string> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms; got ${JSON.stringify(this.data.slice(0, 500))}`)), ms);
      const check = () => {
        if (pred(this.data, this.closed)) { clearTimeout(t); resolve(this.data); }
        else this.waiters.push(check);
      };
      check();
    });
  }

  close(): void { this.socket.destroy(); }
}

/** Counts complete HTTP responses with Content-Length bodies in `raw`. */
export function countResponses(raw: string): number {
  let n = 0;
  let i = 0;
  for (;;) {
    const end = raw.indexOf('\r\n\r\n', i);
    if (end === -1) return n;
    const m = /content-length: *(\d+)/i.exec(raw.slice(i, end));
    const len = m ? Number(m[1]) : 0;
    if (end + 4 + len > raw.length) return n;
    n++;
    i = end + 4 + len;
  }
}

/** Runs curl with a deadline; resolves with stdout/stderr and the exit code. */
export function curl(args: string[], ms = 10_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['--max-time', String(ms / 1000), ...args], { timeout: ms + 2000, encoding: 'latin1', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? (err as unknown as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
