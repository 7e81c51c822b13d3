// The node:http baseline: the same demo site as `sluice` (same bodies, statuses and Content-Types)
// served by Node's own HTTP stack, so the benchmark compares the engines and nothing else.
//
//   node dist/bench/baseline-node-http.js [DIR] --host 127.0.0.1 --port P [--sleep-ms MS]
//
// Without DIR:  GET /            -> 200 site/hello.html
//               GET /sleep       -> the same page after --sleep-ms ms (default 5000)
//               GET /work?ms=N   -> burns N ms (1..1000) of CPU, then a small HTML page. NOTE: this baseline burns
//                                   the CPU with a synchronous busy loop on the event loop (no thread
//                                   pool), so one process serves one /work request at a time.
//               anything else    -> 404 with site/404.html
// With DIR:     static files from DIR (index.html for directories), fs.createReadStream per request.
// Prints one start-up line: `node:http baseline listening on http://HOST:PORT`.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mime from 'mime';

const HTML = 'text/html; charset=utf-8';

/** The demo site folder: BENCH_SITE_DIR (a development override) or the repo's site/. */
function siteDir(): string {
  if (process.env.BENCH_SITE_DIR) return path.resolve(process.env.BENCH_SITE_DIR);
  const here = path.dirname(fileURLToPath(import.meta.url)); // dist/bench
  return path.resolve(here, '..', '..', 'site');
}

/**
 * The body of GET /work?ms=N: sluice's page (src/app/work.ts) with the same layout and about the same
 * length. It cannot be byte-for-byte the same: it reports the measured time, and here the loop runs
 * on the main thread, blocking the event loop.
 */
export function workPage(ms: number, workedMs: number): string {
  const worked = workedMs.toFixed(1);
  return '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>sluice: work</title></head>\n<body>\n' +
    `<h1>Worked ${worked} ms</h1>\n` +
    `<p>Asked for ${ms} ms of CPU; the busy loop ran ${worked} ms on the main thread ` +
    `of process ${process.pid}, blocking the event loop (node:http baseline).</p>\n` +
    '</body>\n</html>\n';
}

/** Spins the event loop's thread for `ms` milliseconds; returns how long it ran. */
function burn(ms: number): number {
  const start = performance.now();
  let now = start;
  let x = 0;
  while (now - start < ms) {
    for (let i = 0; i < 1000; i++) x = (x + i * 7) % 1_000_003;
    now = performance.now();
  }
  return x >= 0 ? now - start : 0;
}

interface Options { dir: string | null; host: string; port: number; sleepMs: number }

function parseArgs(argv: string[]): Options {
  const o: Options = { dir: null, host: '127.0.0.1', port: 7879, sleepMs: 5000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--host') o.host = val();
    else if (a === '--port') o.port = Number(val());
    else if (a === '--sleep-ms') o.sleepMs = Number(val());
    else if (a.startsWith('--')) {
      // sluice flags that mean nothing here (--workers, --concurrency, --queue): accept and ignore.
      if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) i++;
    } else o.dir = path.resolve(a);
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new Error(`bad --port`);
  if (!(o.sleepMs >= 0)) throw new Error(`bad --sleep-ms`);
  return o;
}

function send(res: http.ServerResponse, status: number, type: string, body: Buffer | string): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function demoSite(opts: Options): http.RequestListener {
  const dir = siteDir();
  const hello = fs.readFileSync(path.join(dir, 'hello.html'));
  const notFound = fs.readFileSync(path.join(dir, '404.html'));
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const p = q === -1 ? url : url.slice(0, q);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 404, HTML, notFound);
    if (p === '/') return send(res, 200, HTML, hello);
    if (p === '/sleep') {
      const t = setTimeout(() => send(res, 200, HTML, hello), opts.sleepMs);
      res.on('close', () => clearTimeout(t));
      return;
    }
    if (p === '/work') {
      const raw = new URLSearchParams(q === -1 ? '' : url.slice(q + 1)).getAll('ms');
      const ms = raw.length === 1 && /^[0-9]{1,4}$/.test(raw[0]!) ? Number(raw[0]) : 0;
      if (ms < 1 || ms > 1000) return send(res, 400, 'text/plain; charset=utf-8', 'Bad Request: ms must be an integer from 1 to 1000\n');
      const worked = burn(ms);
      res.setHeader('Cache-Control', 'no-store');
      return send(res, 200, HTML, workPage(ms, worked));
    }
    return send(res, 404, HTML, notFound);
  };
}

function typeOf(file: string): string {
  const t = mime.getType(file) ?? 'application/octet-stream';
  return t.startsWith('text/') || t === 'application/javascript' || t === 'application/json' ? `${t}; charset=utf-8` : t;
}

function staticSite(root: string): http.RequestListener {
  const notFoundBody = 'Not Found\n';
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    let rel: string;
    try { rel = decodeURIComponent(q === -1 ? url : url.slice(0, q)); } catch { return send(res, 400, 'text/plain; charset=utf-8', 'Bad Request\n'); }
    const file = path.join(root, path.normalize(rel));
    if (!file.startsWith(root)) return send(res, 404, 'text/plain; charset=utf-8', notFoundBody);
    fs.stat(file, (err, st) => {
      if (err) return send(res, 404, 'text/plain; charset=utf-8', notFoundBody);
      let target = file;
      if (st.isDirectory()) {
        target = path.join(file, 'index.html');
        try { st = fs.statSync(target); } catch { return send(res, 404, 'text/plain; charset=utf-8', notFoundBody); }
      }
      res.writeHead(200, { 'Content-Type': typeOf(target), 'Content-Length': st.size });
      if (req.method === 'HEAD') return res.end();
      const stream = fs.createReadStream(target);
      stream.on('error', () => res.destroy());
      stream.pipe(res);
    });
  };
}

function main(): void {
  let opts: Options;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`baseline-node-http: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const handler = opts.dir ? staticSite(opts.dir) : demoSite(opts);
  const server = http.createServer({ noDelay: true }, handler);
  server.keepAliveTimeout = 5000; // sluice's default --keep-alive-timeout
  server.listen({ host: opts.host, port: opts.port, backlog: 2048 }, () => {
    const { port } = server.address() as import('node:net').AddressInfo;
    const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
    process.stdout.write(`node:http baseline listening on http://${host}:${port}\n`);
  });
  const stop = () => {
    server.close();
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 200).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
