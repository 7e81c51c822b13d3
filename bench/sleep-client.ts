// The many-connections client for scenario 4. Runs in its own process: the fd limit (`ulimit -n`)
// then counts the client's sockets and the server's separately.
//
// Phase 1 opens N TCP connections (at most --parallel connects in progress at once). Phase 2, once
// every connection is open (the barrier), sends one `GET /sleep` on each in one go, so all N requests
// are in the server at the same time; each carries `Connection: close`, so the server closes first
// and the TIME_WAIT state stays on its side. Latency runs from a request's write to the last byte of
// its response; `totalMs` from the first write to the last response. With `--barrier 0` each
// request goes out as soon as its connection is open instead (latency then includes the connect).
//
//   node dist/bench/sleep-client.js --host 127.0.0.1 --port P [--path /sleep] [--n 10000]
//        [--parallel 1000] [--barrier 1] [--timeout-ms 30000]
// Prints one JSON line on stdout (SleepClientResult).
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SleepClientResult {
  n: number;
  /** Connections that opened. */
  connected: number;
  /** Responses received in full. */
  answered: number;
  /** Of those, status 200. */
  ok: number;
  /** Failures by kind: connect errors (by code), non-200 statuses (`status-503`), `closed-early`, `timeout`. */
  errors: Record<string, number>;
  errorCount: number;
  /** Until every connect attempt succeeded or failed. */
  connectAllMs: number;
  /** Time to write every request (barrier mode). */
  sendAllMs: number;
  /** From the first request written to the last complete response (or the time-out). */
  totalMs: number;
  /** Most connections open at the same time. */
  peakOpen: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

interface Args { host: string; port: number; path: string; n: number; parallel: number; barrier: boolean; timeoutMs: number }

function parseArgs(argv: string[]): Args {
  const a: Args = { host: '127.0.0.1', port: 0, path: '/sleep', n: 10_000, parallel: 1000, barrier: true, timeoutMs: 30_000 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!, v = argv[i + 1];
    if (v === undefined) throw new Error(`${k} needs a value`);
    i++;
    if (k === '--host') a.host = v;
    else if (k === '--port') a.port = Number(v);
    else if (k === '--path') a.path = v;
    else if (k === '--n') a.n = Number(v);
    else if (k === '--parallel') a.parallel = Number(v);
    else if (k === '--barrier') a.barrier = v !== '0';
    else if (k === '--timeout-ms') a.timeoutMs = Number(v);
    else throw new Error(`unknown flag ${k}`);
  }
  if (!a.port) throw new Error('--port is required');
  if (!(a.n >= 1 && a.parallel >= 1)) throw new Error('--n and --parallel must be >= 1');
  return a;
}

function pct(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

/** One connection. Kept lean: the client's CPU per connection sets the pace of phase 1. */
class Conn {
  start = 0;
  connected = false;
  complete = false;
  done = false;
  status = 0;
  head = '';
  bodyLeft = -1; // -1: until EOF
  constructor(readonly socket: net.Socket) {}
}

export function runSleepClient(args: Args): Promise<SleepClientResult> {
  const request = Buffer.from(`GET ${args.path} HTTP/1.1\r\nHost: ${args.host}:${args.port}\r\nConnection: close\r\n\r\n`);
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const addError = (k: string) => { errors[k] = (errors[k] ?? 0) + 1; };
  const t0 = performance.now();
  let started = 0, connecting = 0, connectsDone = 0, settled = 0, answered = 0, ok = 0, connectedCount = 0;
  let open = 0, peakOpen = 0;
  let connectAllMs = NaN, sendAllMs = 0, tSend = NaN, lastAnswer = NaN;
  const conns = new Set<Conn>();

  return new Promise((resolve) => {
    let finished = false;
    const finish = (timedOut: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      const now = performance.now();
      if (timedOut) {
        const missing = args.n - settled;
        if (missing > 0) errors.timeout = (errors.timeout ?? 0) + missing;
        for (const c of conns) c.socket.destroy();
      }
      const sorted = Float64Array.from(latencies).sort();
      const errorCount = Object.values(errors).reduce((x, y) => x + y, 0);
      const from = Number.isNaN(tSend) ? t0 : tSend;
      resolve({
        n: args.n, connected: connectedCount, answered, ok, errors, errorCount,
        connectAllMs: Number.isNaN(connectAllMs) ? now - t0 : connectAllMs,
        sendAllMs,
        totalMs: timedOut || Number.isNaN(lastAnswer) ? now - from : lastAnswer - from,
        peakOpen,
        latencyMs: { p50: pct(sorted, 50), p90: pct(sorted, 90), p99: pct(sorted, 99), max: sorted.length ? sorted[sorted.length - 1]! : NaN },
      });
    };
    const deadline = setTimeout(() => finish(true), args.timeoutMs);

    const send = (c: Conn) => {
      c.start = performance.now();
      if (Number.isNaN(tSend)) tSend = c.start;
      c.socket.write(request);
    };
    const sendAll = () => {
      const a = performance.now();
      for (const c of conns) if (c.connected && !c.done) send(c);
      sendAllMs = performance.now() - a;
    };
    const settle = () => {
      settled++;
      if (settled === args.n) finish(false);
    };
    const conclude = (c: Conn, err?: string) => {
      if (c.done) return;
      c.done = true;
      if (c.complete) {
        answered++;
        if (c.status === 200) ok++; else addError(`status-${c.status}`);
      } else addError(err ?? (c.connected ? 'closed-early' : 'connect-failed'));
      settle();
    };
    const completeNow = (c: Conn) => {
      c.complete = true;
      const now = performance.now();
      latencies.push(now - c.start);
      lastAnswer = now;
      conclude(c);
    };
    const connectDone = () => {
      connecting--;
      connectsDone++;
      if (connectsDone === args.n) {
        connectAllMs = performance.now() - t0;
        if (args.barrier) sendAll();
      }
      pump();
    };

    const openOne = () => {
      const s = net.connect(args.port, args.host);
      const c = new Conn(s);
      conns.add(c);
      connecting++;
      if (!args.barrier) c.start = performance.now();
      s.once('connect', () => {
        c.connected = true;
        connectedCount++;
        open++;
        if (open > peakOpen) peakOpen = open;
        if (!args.barrier) send(c);
        connectDone();
      });
      s.on('data', (d: Buffer) => {
        if (c.complete) return;
        if (c.status === 0) {
          c.head += d.toString('latin1');
          const end = c.head.indexOf('\r\n\r\n');
          if (end === -1) return;
          c.status = Number(c.head.slice(9, 12)) || -1;
          const cl = /\r\ncontent-length:[ \t]*(\d+)/i.exec(c.head.slice(0, end));
          if (cl) {
            c.bodyLeft = Number(cl[1]) - (c.head.length - end - 4);
            if (c.bodyLeft <= 0) completeNow(c);
          }
          c.head = '';
        } else if (c.bodyLeft > 0) {
          c.bodyLeft -= d.length;
          if (c.bodyLeft <= 0) completeNow(c);
        }
      });
      s.on('end', () => {
        if (!c.complete && c.status !== 0 && c.bodyLeft === -1) completeNow(c); // a body delimited by the close
      });
      s.on('error', (err: NodeJS.ErrnoException) => {
        if (!c.connected && !c.done) { c.done = true; addError(err.code ?? 'error'); settle(); connectDone(); return; }
        conclude(c, err.code ?? 'error');
      });
      s.on('close', () => {
        conns.delete(c);
        if (c.connected) open--;
        else if (!c.done) { c.done = true; addError('connect-failed'); settle(); connectDone(); return; }
        conclude(c);
      });
    };

    const pump = () => {
      while (started < args.n && connecting < args.parallel) {
        started++;
        openOne();
      }
    };
    pump();
  });
}

async function main(): Promise<void> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`sleep-client: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const result = await runSleepClient(args);
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) void main();
