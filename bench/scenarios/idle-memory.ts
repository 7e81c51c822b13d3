// Scenario 7: what an idle keep-alive connection costs the server, sluice beside node:http.
//
// A client process opens N connections, sends one `GET /` on each, reads the whole response and
// then keeps every connection open and quiet. The server's resident memory (VmRSS) is read
// before the client starts and again once all N sit idle; the difference divided by N is what
// one idle connection holds (its socket, the engine's objects, timers, buffers; kernel socket
// buffers are not in RSS). Both servers get a keep-alive timeout far beyond the measurement.
//
// This file is also the client (`--client`) and the node:http server (`--node-http`), so the
// scenario needs nothing else:
//   node dist/bench/scenarios/idle-memory.js --client --host H --port P --n N
//   node dist/bench/scenarios/idle-memory.js --node-http --host H --port 0
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pinned, procStatusKb, sleep, spawnTracked, stopProcess, defaultSiteDir } from '../common.js';
import { startNodeServer, type RunningServer } from '../servers.js';
import { summarize, type ScenarioResult, type ServerResult } from '../results.js';

export const IDLE_MEMORY_ID = '7';
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
      `open; the server's VmRSS before the client and once all ${n} are idle (after a 2 s settle), difference ÷ ${n}. ` +
      `Both servers with a ${KEEP_ALIVE_MS / 1000} s keep-alive timeout, a fresh server per round, ${o.rounds} round(s).`,
    servers: [], ratios: {}, notes: [],
  };
  const defs: { name: string; start(): Promise<RunningServer> }[] = [
    { name: 'sluice', start: () => startNodeServer('sluice', o.cli, ['--workers', '1', '--concurrency', '100000', '--keep-alive-timeout', String(KEEP_ALIVE_MS), '--host', o.host, '--port', '0'], o.serverCpu) },
    { name: 'node:http', start: () => startNodeServer('node:http', selfPath, ['--node-http', '--host', o.host, '--port', '0'], o.serverCpu) },
  ];
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
  for (const r of results.values()) {
    r.summary = summarize(r.rounds);
    if (r.status === 'ok' && r.rounds.length === 0) r.status = 'failed';
    res.servers.push(r);
  }
  const kb = (name: string) => results.get(name)?.summary.kibPerConn?.median;
  const s = kb('sluice'), b = kb('node:http');
  if (s !== undefined && b !== undefined && b > 0) res.ratios['sluice/node:http'] = s / b;
  return res;
}

async function measure(srv: RunningServer, n: number, loadCpu: string | null): Promise<Record<string, number>> {
  // Warm up (JIT, lazily loaded modules) on one connection, then let the heap settle.
  await runClient(srv, 200, loadCpu, true);
  await sleep(500);
  const before = procStatusKb(srv.pid, 'VmRSS');
  const client = await runClient(srv, n, loadCpu, false);
  try {
    await sleep(2000);
    const after = procStatusKb(srv.pid, 'VmRSS');
    if (before === null || after === null) throw new Error('cannot read the server\'s /proc status');
    if (client.open < n) throw new Error(`only ${client.open} of ${n} connections were open and answered`);
    return { kibPerConn: (after - before) / n, rssBeforeMb: before / 1024, rssAfterMb: after / 1024, open: client.open };
  } finally {
    await client.stop();
  }
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
    // (a connection the server never answers counts as an error rather than stalling the run)
    s.setTimeout(20_000, () => s.destroy());
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

// ---- the node:http server -----------------------------------------------------------------------

function nodeHttpServer(host: string, port: number): void {
  const hello = fs.readFileSync(path.join(process.env.BENCH_SITE_DIR ?? defaultSiteDir, 'hello.html'));
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': hello.length });
    res.end(hello);
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 1000;
  server.requestTimeout = 0;
  server.listen(port, host, () => {
    const a = server.address() as net.AddressInfo;
    process.stdout.write(`node:http idle-memory server listening on http://${host}:${a.port}\n`);
  });
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
  } else if (argv.includes('--node-http')) {
    nodeHttpServer(host, port);
  }
}
