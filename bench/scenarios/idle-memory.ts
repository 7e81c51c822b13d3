// Scenario 7: what an idle keep-alive connection costs the server, sluice beside node:http.
//
// A client process opens N connections, sends one `GET /` on each, reads the whole response and
// then keeps every connection open and quiet. The server process is asked (SIGUSR2) for its
// memory before the client starts and again once all N sit idle, after a full garbage
// collection both times; the differences divided by N are what one idle connection holds:
//   heap:   the JavaScript objects (socket, engine objects, timers, buffers), exact after GC;
//   native: what the main thread's allocator holds in its heap (the brk region: socket handles,
//           libuv and Node's C++ objects), resident pages;
//   held:   the two together, the headline figure;
//   RSS:    everything resident. It also holds what is not per connection: V8's young generation
//           grows once under the burst of allocation (from 1 MB towards its 16 MB semispaces; the
//           same growth at 5,000 connections as at 15,000), reported apart as "young gen MB", and
//           pages the allocators of the GC's helper threads keep. So RSS ÷ N overstates, and is noisy.
// A third server, plain `net` sockets that answer each read with a fixed response and parse
// nothing, shows the floor: what Node itself spends on an open TCP connection.
//
// The servers are this file in server mode (so they can collect garbage on request): sluice is
// serve(demoSite()) from the build being measured (the engine the CLI runs with --workers 1),
// node:http serves the same hello.html. Both get a keep-alive timeout far beyond the measurement.
//   node dist/bench/scenarios/idle-memory.js --serve sluice|node-http|net [--dist DIR] --host H --port 0
//   node dist/bench/scenarios/idle-memory.js --client --host H --port P --n N [--sequential]
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pinned, sleep, spawnTracked, stopProcess, defaultSiteDir } from '../common.js';
import { startNodeServer, type RunningServer } from '../servers.js';
import { finish, type ScenarioResult, type ServerResult } from '../results.js';

export const IDLE_MEMORY_ID = '10';
const selfPath = fileURLToPath(import.meta.url);
/** Longer than any measurement: the connections must still be open when memory is read. */
const KEEP_ALIVE_MS = 600_000;

export interface IdleMemoryOptions {
  cli: string;
  rounds: number;
  connections: number;
  host: string;
  serverCpu: string | null;
  loadCpu: string | null;
  progress(msg: string): void;
}

export async function runIdleMemoryScenario(o: IdleMemoryOptions): Promise<ScenarioResult> {
  const n = o.connections;
  const res: ScenarioResult = {
    id: IDLE_MEMORY_ID, title: `memory of ${n.toLocaleString('en-US')} idle keep-alive connections`, kind: 'memory',
    method: `a client process (CPU ${o.loadCpu ?? 'any'}) opens ${n} connections and sends one GET / on each, then keeps them ` +
      `open; the server's memory (after a full GC) before the client and once all ${n} are idle, difference ÷ ${n}: ` +
      `held = JS heap + the main allocator's resident heap (native); RSS ÷ N also counts V8's one-off young-generation growth (shown apart). ` +
      `sluice is serve(demoSite()) of the build measured; "net (no HTTP)" is bare sockets, the floor. ` +
      `Keep-alive timeout ${KEEP_ALIVE_MS / 1000} s, a fresh server per round, ${o.rounds} round(s).`,
    servers: [], ratios: {}, notes: [],
  };
  const dist = path.dirname(o.cli); // dist/src of the build whose CLI is measured
  const server = (name: string, mode: string) => ({
    name,
    start: () => startNodeServer(name, selfPath, ['--serve', mode, '--dist', dist, '--host', o.host, '--port', '0'], o.serverCpu),
  });
  const defs = [server('sluice', 'sluice'), server('node:http', 'node-http'), server('net (no HTTP)', 'net')];
  const results = new Map<string, ServerResult>(defs.map((d) => [d.name, { server: d.name, status: 'ok', notes: [], rounds: [], summary: {} }]));
  for (let round = 0; round < o.rounds; round++) {
    for (const def of defs) {
      const result = results.get(def.name)!;
      if (result.status !== 'ok') continue;
      o.progress(`[${IDLE_MEMORY_ID}] round ${round + 1}/${o.rounds} ${def.name}`);
      let srv: RunningServer;
      try {
        srv = await def.start();
      } catch (err) {
        result.status = 'failed';
        result.notes.push(`did not start: ${(err as Error).message.split('\n')[0]}`);
        continue;
      }
      try {
        result.rounds.push(await measure(srv, n, o.loadCpu));
      } catch (err) {
        result.notes.push(`round ${round + 1}: ${(err as Error).message}`);
      } finally {
        await srv.stop();
      }
    }
  }
  for (const r of results.values()) res.servers.push(finish(r));
  const kb = (name: string) => results.get(name)?.summary.heldKibPerConn?.median;
  const s = kb('sluice'), b = kb('node:http');
  if (s !== undefined && b !== undefined && b > 0) res.ratios['sluice/node:http'] = s / b;
  return res;
}

async function measure(srv: RunningServer, n: number, loadCpu: string | null): Promise<Record<string, number>> {
  // Warm up (JIT, lazily loaded modules) on one connection, then let the heap settle.
  const warm = await runClient(srv, 200, loadCpu, true);
  await warm.stop();
  await sleep(300);
  const before = await memoryOf(srv);
  const client = await runClient(srv, n, loadCpu, false);
  try {
    await sleep(1000);
    const after = await memoryOf(srv);
    if (client.open < n) throw new Error(`only ${client.open} of ${n} connections were open and answered`);
    const perConn = (k: keyof Memory) => (after[k] - before[k]) / n / 1024;
    return {
      heldKibPerConn: perConn('heap') + perConn('native'), heapKibPerConn: perConn('heap'), nativeKibPerConn: perConn('native'),
      rssKibPerConn: perConn('rss'), youngGenMb: (after.youngGen - before.youngGen) / 2 ** 20,
      rssBeforeMb: before.rss / 2 ** 20, rssAfterMb: after.rss / 2 ** 20, open: client.open,
    };
  } finally {
    await client.stop();
  }
}

/** What a server reports (bytes). */
interface Memory { heap: number; native: number; rss: number; youngGen: number }

/** Asks the server (SIGUSR2) to collect garbage and report its memory. */
async function memoryOf(srv: RunningServer): Promise<Memory> {
  const seen = (srv.output().match(/^MEM /gm) ?? []).length;
  process.kill(srv.pid, 'SIGUSR2');
  for (let i = 0; i < 100; i++) {
    await sleep(50);
    const lines = srv.output().split('\n').filter((l) => l.startsWith('MEM '));
    if (lines.length > seen) return JSON.parse(lines[lines.length - 1]!.slice(4)) as Memory;
  }
  throw new Error('the server did not report its memory');
}

interface ClientRun { open: number; stop(): Promise<void> }

/** Starts the client; resolves once it reports its connections open (or `sequential` requests done). */
function runClient(srv: RunningServer, n: number, loadCpu: string | null, sequential: boolean): Promise<ClientRun> {
  const [cmd, argv] = pinned(loadCpu, process.execPath, [selfPath, '--client', '--host', srv.host, '--port', String(srv.port), '--n', String(n), ...(sequential ? ['--sequential'] : [])]);
  const proc = spawnTracked(cmd, argv);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => { void stopProcess(proc, 500); reject(new Error(`client gave no result within 60 s: ${err.slice(-300)}`)); }, 60_000);
    proc.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      clearTimeout(timer);
      const r = JSON.parse(line) as { open: number; errors: number };
      resolve({ open: r.open, stop: () => stopProcess(proc, 500) });
    });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`client exited (${code}) before its result: ${err.slice(-300)}`)); });
  });
}

// ---- the client -------------------------------------------------------------------------------

const REQUEST = 'GET / HTTP/1.1\r\nHost: bench\r\n\r\n';

/** Resolves when one complete response (Content-Length framed) has arrived on `s`. */
function oneResponse(s: net.Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const m = /content-length: *(\d+)/i.exec(buf.slice(0, end));
      if (buf.length >= end + 4 + (m ? Number(m[1]) : 0)) { s.off('data', onData); s.off('close', onClose); s.setTimeout(0); resolve(); }
    };
    const onClose = () => reject(new Error('closed before the response'));
    s.setTimeout(20_000); // (see open(): a connection the server never answers is an error, not a stall)
    s.on('data', onData);
    s.once('close', onClose);
    s.write(REQUEST);
  });
}

async function client(host: string, port: number, n: number, sequential: boolean): Promise<void> {
  const sockets: net.Socket[] = [];
  let errors = 0;
  const open = () => new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(port, host, () => resolve(s));
    s.once('error', reject);
    s.on('timeout', () => s.destroy());
  });
  if (sequential) {
    const s = await open();
    for (let i = 0; i < n; i++) await oneResponse(s);
    sockets.push(s);
  } else {
    let next = 0;
    const worker = async () => {
      while (next < n) {
        next++;
        try {
          const s = await open();
          s.on('error', () => {});
          await oneResponse(s);
          sockets.push(s);
        } catch { errors++; }
      }
    };
    await Promise.all(Array.from({ length: 200 }, worker));
  }
  process.stdout.write(JSON.stringify({ open: sequential ? n : sockets.length, errors }) + '\n');
  // Then stay idle, connections open, until stopped.
  setInterval(() => {}, 60_000);
}

// ---- the servers ------------------------------------------------------------------------------

/** Resident bytes of the main allocator's heap (the `[heap]` mapping), from /proc/self/smaps. */
function nativeHeapBytes(): number {
  let inHeap = false;
  let bytes = 0;
  for (const line of fs.readFileSync('/proc/self/smaps', 'latin1').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inHeap = line.endsWith('[heap]');
    else if (inHeap && line.startsWith('Rss:')) bytes += Number(line.split(/\s+/)[1]) * 1024;
  }
  return bytes;
}

/** SIGUSR2: a full garbage collection, then one `MEM {"heap":…,"native":…,"rss":…,"youngGen":…}` line on stdout. */
function reportMemoryOnSignal(): void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  process.on('SIGUSR2', () => {
    gc();
    gc();
    const m = process.memoryUsage();
    const youngGen = v8.getHeapSpaceStatistics().find((sp) => sp.space_name === 'new_space')?.space_size ?? 0;
    process.stdout.write(`MEM ${JSON.stringify({ heap: m.heapUsed, native: nativeHeapBytes(), rss: m.rss, youngGen })}\n`);
  });
}

async function startServer(mode: string, dist: string, host: string, port: number): Promise<void> {
  reportMemoryOnSignal();
  const hello = fs.readFileSync(path.join(process.env.BENCH_SITE_DIR ?? defaultSiteDir, 'hello.html'));
  const listening = (addr: net.AddressInfo | string | null) =>
    process.stdout.write(`${mode} idle-memory server listening on http://${host}:${(addr as net.AddressInfo).port}\n`);
  if (mode === 'sluice') {
    const lib = await import(pathToFileURL(path.join(dist, 'index.js')).href) as typeof import('../../src/index.js');
    const srv = await lib.serve(lib.demoSite(), { host, port, keepAliveTimeoutMs: KEEP_ALIVE_MS, concurrency: 1_000_000 });
    process.stdout.write(`sluice idle-memory server listening on ${srv.url}\n`);
  } else if (mode === 'node-http') {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': hello.length });
      res.end(hello);
    });
    server.keepAliveTimeout = KEEP_ALIVE_MS;
    server.headersTimeout = KEEP_ALIVE_MS + 1000;
    server.requestTimeout = 0;
    server.listen(port, host, () => listening(server.address()));
  } else if (mode === 'net') {
    const response = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${hello.length}\r\n\r\n`), hello]);
    const server = net.createServer((s) => {
      s.on('data', () => s.write(response));
      s.on('error', () => {});
    });
    server.listen(port, host, () => listening(server.address()));
  } else {
    throw new Error(`unknown server mode ${mode}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === selfPath) {
  const argv = process.argv.slice(2);
  const val = (flag: string, dflt: string) => { const i = argv.indexOf(flag); return i === -1 ? dflt : argv[i + 1] ?? dflt; };
  const host = val('--host', '127.0.0.1');
  const port = Number(val('--port', '0'));
  if (argv.includes('--client')) {
    client(host, port, Number(val('--n', '10000')), argv.includes('--sequential')).catch((err) => {
      process.stderr.write(`idle-memory client: ${(err as Error).message}\n`);
      process.exit(1);
    });
  } else if (argv.includes('--serve')) {
    startServer(val('--serve', ''), val('--dist', path.resolve(path.dirname(selfPath), '..', '..', 'src')), host, port).catch((err) => {
      process.stderr.write(`idle-memory server: ${(err as Error).stack}\n`);
      process.exit(1);
    });
  }
}
